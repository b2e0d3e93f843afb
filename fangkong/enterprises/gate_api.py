"""JSON API of plant gates (/api/plant-gates/...): entries, exits, vehicles."""

from ninja import Router

router = Router(tags=["企业厂门"])
