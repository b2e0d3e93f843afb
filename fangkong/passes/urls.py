"""/passes/ pages."""

from django.urls import path

from fangkong.passes import views

app_name = "passes"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("apply/", views.apply, name="apply"),
    path("batches/", views.batches, name="batches"),
    path("stats/", views.stats, name="stats"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
]
