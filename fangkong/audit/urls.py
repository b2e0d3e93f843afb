from django.urls import path

from fangkong.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("verify/", views.verify, name="verify"),
    path("verify/<int:pk>/", views.verify_progress, name="verify_progress"),
    path("export/", views.export, name="export"),
]
