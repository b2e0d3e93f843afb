from django.urls import path

from fangkong.clearances import views

app_name = "clearances"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
]
