from django.urls import path

from fangkong.codes import views

app_name = "codes"
urlpatterns = [
    path("", views.overview, name="overview"),
]
