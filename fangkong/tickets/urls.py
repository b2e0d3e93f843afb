"""/tickets/ pages (fangkong.tickets.views)."""

from django.urls import path

from fangkong.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_new, name="new"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("dispatch.xlsx", views.dispatch_export, name="dispatch_export"),
    path("task-force/", views.task_force, name="task_force"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/contact/", views.ticket_contact, name="contact"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/solve/", views.ticket_solve, name="solve"),
    path("<int:pk>/reopen/", views.ticket_reopen, name="reopen"),
    path("<int:pk>/close/", views.ticket_close, name="close"),
]
