"""The JSON API (Django Ninja). Its OpenAPI schema at /api/openapi.json is a product surface."""

from django.shortcuts import render
from ninja import NinjaAPI, Swagger

from fangkong import api_errors
from fangkong.checkpoints.api import router as checkpoints_router
from fangkong.clearances.api import router as clearances_router
from fangkong.enterprises.api import router as enterprises_router
from fangkong.enterprises.gate_api import router as plant_gates_router
from fangkong.ingest.api import router as ingest_router
from fangkong.passes.api import router as passes_router
from fangkong.supplies.api import router as supplies_router
from fangkong.tickets.api import router as tickets_router

SWAGGER_UI = "fangkong/vendor/swagger-ui-dist-5.36.0"


class LocalSwagger(Swagger):
    """/api/docs with the Swagger UI vendored in static/ (pinned, no CDN), loaded by script files
    the Content-Security-Policy allows; no call to the public validator either."""

    def render_page(self, request, api, **kwargs):
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs), "validatorUrl": None}
        return render(
            request, "api/docs.html", {"api": api, "settings": settings, "swagger_ui": SWAGGER_UI}
        )


api = NinjaAPI(
    title="防控 fangkong API",
    version="1",
    description="Facts in (residents, presence, designations, samplings, results); "
    "see docs/ingest.md for columns.",
    urls_namespace="api",
    docs=LocalSwagger(),
)
api_errors.answer_in_json(api)
api.add_router("/ingest", ingest_router)
api.add_router("/", checkpoints_router)
api.add_router("/clearances", clearances_router)
api.add_router("/enterprises", enterprises_router)
api.add_router("/plant-gates", plant_gates_router)
api.add_router("/passes", passes_router)
api.add_router("/tickets", tickets_router)
api.add_router("/supplies", supplies_router)
