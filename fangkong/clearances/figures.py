"""Clearance figures for the command centre (解码统计)."""

urlpatterns: list = []
