from django.urls import path

from fangkong.ingest import views
from fangkong.testing import views as sites

app_name = "ingest"
urlpatterns = [
    path("upload/<str:kind>/", views.upload, name="upload"),
    path("columns/", views.columns_doc, name="docs"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("batches/<int:pk>/errors.csv", views.batch_errors_csv, name="batch_errors"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:pk>/", views.flag, name="flag"),
    # Testing sites: reference data that site lists load, managed here one at a time.
    path("sites/", sites.site_list, name="sites"),
    path("sites/new/", sites.site_new, name="site_new"),
    path("sites/<int:pk>/", sites.site_detail, name="site"),
    path("sites/<int:pk>/edit/", sites.site_edit, name="site_edit"),
    path("sites/<int:pk>/close/", sites.site_status, {"action": "close"}, name="site_close"),
    path("sites/<int:pk>/reopen/", sites.site_status, {"action": "reopen"}, name="site_reopen"),
]
