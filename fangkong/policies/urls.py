from django.urls import path

from fangkong.policies import help_views, views

app_name = "policies"
urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_new, name="new"),
    path("publish/", views.policy_publish, name="publish"),
    path("help/", help_views.policy_help, name="help"),
    path(
        "<slug:policy_id>/withdraw/preview/",
        views.policy_withdraw_preview,
        name="withdraw_preview",
    ),
    path("<slug:policy_id>/withdraw/", views.policy_withdraw, name="withdraw"),
    path("<slug:policy_id>/versions/", views.policy_versions, name="versions"),
    path("<slug:policy_id>/v<int:version>/", views.policy_version, name="version"),
]
