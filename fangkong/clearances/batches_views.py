"""Employer batch applications (单位集中申请): upload, the rows' checks, review."""

urlpatterns: list = []
