from django.urls import path

from fangkong.ingest import views

app_name = "ingest"
urlpatterns = [
    path("upload/<str:kind>/", views.upload, name="upload"),
    path("columns/", views.columns_doc, name="docs"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("batches/<int:pk>/errors.csv", views.batch_errors_csv, name="batch_errors"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:pk>/", views.flag, name="flag"),
]
