from django.urls import path

from fangkong.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("verify/", views.verify, name="verify"),
    path("export/", views.export, name="export"),
]
