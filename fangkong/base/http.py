"""Response headers every page of the site carries."""


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that does not choose its own caching.

    Nearly every page and export here carries personal data (a resident's code, a person's
    record, the hotline, clearances, evidence, the audit log, CSV files), and a browser's disk
    cache or a shared proxy must keep none of it. Listing the pages that need it would miss the
    next one, so it is the default: a response that may be cached says so itself (the favicon,
    with `cache_control`), and static files are answered by WhiteNoise before this runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
