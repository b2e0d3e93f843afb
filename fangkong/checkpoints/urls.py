from django.urls import path

from fangkong.checkpoints import views

app_name = "checkpoints"
urlpatterns = [
    path("", views.checkpoint_list, name="list"),
    path("sw.js", views.service_worker, name="sw"),
    path("<int:pk>/verify/", views.verify_page, name="verify"),
    path("<int:pk>/log/", views.gate_log, name="log"),
]
