from django.urls import path

from fangkong.exits import views as exit_views
from fangkong.zones import views

app_name = "zones"
urlpatterns = [
    path("", views.zone_list, name="list"),
    # The exit rules (易行码规则) of the city and of one community: staff pages, so they live
    # here rather than under the residents' /r/exit/.
    path("exit-rules/", exit_views.rules, name="default_exit_rules"),
    path("<str:code>/", views.community, name="community"),
    path("<str:code>/level/", views.set_level, name="set_level"),
    path("<str:code>/exit-rules/", exit_views.rules, name="exit_rules"),
]
