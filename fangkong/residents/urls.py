from django.urls import path

from fangkong.residents import appeals, views

app_name = "residents"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("code.json", views.code_json, name="code_json"),
    path("sw.js", views.service_worker, name="sw"),
    path("history/", views.history, name="history"),
    path("antigen/", views.antigen, name="antigen"),
    path("clear/<str:policy_id>/", appeals.clearing, name="clear"),
    path("clear/<str:policy_id>/<int:pk>/", appeals.appeal_step, name="appeal_step"),
    path("evidence/<int:pk>/", appeals.evidence, name="evidence"),
    path("outbox/", views.outbox, name="outbox"),
]
