from django.urls import path

from fangkong.residents import views

app_name = "residents"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("qr/", views.qr, name="qr"),
    path("history/", views.history, name="history"),
    path("antigen/", views.antigen, name="antigen"),
    path("clear/<str:policy_id>/", views.clearing, name="clear"),
    path("outbox/", views.outbox, name="outbox"),
]
