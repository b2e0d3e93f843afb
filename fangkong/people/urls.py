from django.urls import path

from fangkong.people import views

app_name = "people"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("<int:pk>/", views.person, name="person"),
]
