"""JSON API of resumption of work: the dashboard figures (/api/enterprises/...)."""

from ninja import Router

router = Router(tags=["复工复产"])
