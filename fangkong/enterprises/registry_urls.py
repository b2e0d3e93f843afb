"""URL patterns of the registry pages (views.py): the list, one enterprise, its filing steps,
its daily report and the reminder list (see urls.py)."""

from django.urls import path

from fangkong.enterprises import views

urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("new/", views.enterprise_new, name="new"),
    path("reminders/", views.reminder_list, name="reminders"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/file/", views.enterprise_file, name="file"),
    path("<int:pk>/check/", views.enterprise_check, name="check"),
    path("<int:pk>/decide/", views.enterprise_decide, name="decide"),
    path("<int:pk>/resume/", views.enterprise_resume, name="resume"),
    path("<int:pk>/suspend/", views.enterprise_suspend, name="suspend"),
    path("<int:pk>/steps/<int:step>/document", views.step_document, name="document"),
    path("<int:pk>/report/", views.daily_report, name="report"),
]
