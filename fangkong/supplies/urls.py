"""/supplies/ pages."""

from django.urls import path

from fangkong.supplies import views

app_name = "supplies"
urlpatterns = [
    path("", views.figures_page, name="figures"),
    path("firms/", views.firm_list, name="firms"),
    path("firms/<int:pk>/", views.firm_detail, name="firm"),
    path("import/", views.import_page, name="import"),
    path("import/flags/<int:pk>/", views.resolve_flag, name="resolve_flag"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("deliveries/<int:pk>/confirm/", views.confirm_delivery, name="confirm"),
    path("housing/", views.housing, name="housing"),
]
