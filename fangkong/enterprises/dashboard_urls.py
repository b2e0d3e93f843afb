"""URL patterns of the enterprises app (see urls.py)."""

urlpatterns: list = []
