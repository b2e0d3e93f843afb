"""/enterprises/: the registry, filings and daily reports (views.py), the dashboard
(dashboard_views.py), plant gates and closed loops (gate_views.py)."""

from fangkong.enterprises import dashboard_urls, gate_urls, registry_urls

app_name = "enterprises"
urlpatterns = [
    *registry_urls.urlpatterns,
    *dashboard_urls.urlpatterns,
    *gate_urls.urlpatterns,
]
