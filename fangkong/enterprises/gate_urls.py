"""URL patterns of plant gates and closed loops (see urls.py; gate_views.py)."""

from django.urls import path

from fangkong.enterprises import gate_views

urlpatterns = [
    path("gates/<int:checkpoint_id>/", gate_views.gate_desk, name="gate"),
    path("<int:pk>/buffer/", gate_views.buffer_page, name="buffer"),
    path("<int:pk>/loop/", gate_views.loop_page, name="loop"),
    path("loop/", gate_views.loop_overview, name="loop_overview"),
    path("<int:pk>/gates/new/", gate_views.gate_new, name="gate_new"),
]
