from django.urls import path

from fangkong.policies import views

app_name = "policies"
urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_new, name="new"),
    path("publish/", views.policy_publish, name="publish"),
    path("<slug:policy_id>/versions/", views.policy_versions, name="versions"),
    path("<slug:policy_id>/v<int:version>/", views.policy_version, name="version"),
]
