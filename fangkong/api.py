"""The JSON API (Django Ninja). Its OpenAPI schema at /api/openapi.json is a product surface."""

from ninja import NinjaAPI

from fangkong.checkpoints.api import router as checkpoints_router
from fangkong.clearances.api import router as clearances_router
from fangkong.ingest.api import router as ingest_router

api = NinjaAPI(
    title="防控 fangkong API",
    version="1",
    description="Facts in (residents, presence, designations, samplings, results); "
    "see docs/ingest.md for columns.",
    urls_namespace="api",
)
api.add_router("/ingest", ingest_router)
api.add_router("/", checkpoints_router)
api.add_router("/clearances", clearances_router)
