"""The 12345 code desk (赋码工作专席)."""

urlpatterns: list = []
