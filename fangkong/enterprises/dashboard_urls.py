"""URL patterns of the resumption dashboard (dashboard_views.py; see urls.py)."""

from django.urls import path

from fangkong.enterprises import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard.xlsx", dashboard_views.dashboard_xlsx, name="dashboard_xlsx"),
]
