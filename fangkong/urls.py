from django.contrib import admin
from django.urls import include, path

from fangkong.api import api
from fangkong.views import favicon, home

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("fangkong.accounts.urls")),
    path("people/", include("fangkong.people.urls")),
    path("ingest/", include("fangkong.ingest.urls")),
    path("audit/", include("fangkong.audit.urls")),
    path("policies/", include("fangkong.policies.urls")),
    path("codes/", include("fangkong.codes.urls")),
    path("checkpoints/", include("fangkong.checkpoints.urls")),
    path("zones/", include("fangkong.zones.urls")),
    path("clearances/", include("fangkong.clearances.urls")),
    path("cases/", include("fangkong.cases.urls")),
    path("enterprises/", include("fangkong.enterprises.urls")),
    path("passes/", include("fangkong.passes.urls")),
    path("tickets/", include("fangkong.tickets.urls")),
    path("supplies/", include("fangkong.supplies.urls")),
    path("r/exit/", include("fangkong.exits.urls")),
    path("r/", include("fangkong.residents.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
