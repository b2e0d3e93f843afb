from django.urls import path

from fangkong.clearances import batches_views, figures, hotline, views

app_name = "clearances"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
    path("override/<int:person_pk>/", views.propose_override, name="propose_override"),
    path("override/withdraw/<int:pk>/", views.withdraw_override, name="withdraw_override"),
    *hotline.urlpatterns,
    *batches_views.urlpatterns,
    *figures.urlpatterns,
]
