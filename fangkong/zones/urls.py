from django.urls import path

from fangkong.exits import views as exit_views
from fangkong.zones import decision_views, eligibility_views, map_views, public_views, views

app_name = "zones"
urlpatterns = [
    path("", views.zone_list, name="list"),
    # Residents' page: no sign-in, no personal data. It and the map come before <code>/, which
    # would match them.
    path("public/", public_views.public, name="public"),
    path("map/", map_views.zone_map, name="map"),
    path("decisions/", decision_views.decisions, name="decisions"),
    path("decisions/new/", decision_views.decision_new, name="decision_new"),
    path("decisions/<int:pk>/", decision_views.decision, name="decision"),
    path("decisions/<int:pk>/approve/", decision_views.decision_approve, name="decision_approve"),
    path("decisions/<int:pk>/reject/", decision_views.decision_reject, name="decision_reject"),
    path("decisions/<int:pk>/publish/", decision_views.decision_publish, name="decision_publish"),
    # The exit rules (易行码规则) of the city and of one community: staff pages, so they live
    # here rather than under the residents' /r/exit/.
    path("exit-rules/", exit_views.rules, name="default_exit_rules"),
    path("eligibility/", eligibility_views.eligibility, name="eligibility"),
    path("<str:code>/", views.community, name="community"),
    path("<str:code>/exit-rules/", exit_views.rules, name="exit_rules"),
]
