from django.urls import path

from fangkong.exits import views

# Included at /r/exit/ (the residents' pages). The staff rules pages are in fangkong.zones.urls.
app_name = "exits"
urlpatterns = [
    path("", views.resident_exit, name="resident"),
]
