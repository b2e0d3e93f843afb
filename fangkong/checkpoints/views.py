"""Staff pages of checkpoints: the list of one's checkpoints, the verifier page (works offline,
see static/fangkong/verifier/) and the gate log."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache

from fangkong.accounts.views import county_names, render_staff
from fangkong.checkpoints.access import staff_may_use, visible_checkpoints
from fangkong.checkpoints.models import Checkpoint, GateScan
from fangkong.engine.policies import COLOUR_LABELS

# What the service worker precaches so the verifier opens with no network.
VERIFIER_ASSETS = (
    "fangkong/site.css",
    "fangkong/vendor/htmx-2.0.11.min.js",
    "fangkong/vendor/noble-ed25519-3.2.0.js",
    "fangkong/vendor/jsQR-1.4.0.js",
    "fangkong/verifier/rules.js",
    "fangkong/verifier/verifier.js",
)


@cache
def assets_version() -> str:
    """Changes whenever a cached asset or the page changes, so devices fetch the new files (the
    service worker serves its cache first)."""
    digest = hashlib.sha256()
    for asset in VERIFIER_ASSETS:
        digest.update(Path(finders.find(asset)).read_bytes())
    digest.update(
        Path(__file__).with_name("templates").joinpath("checkpoints", "verify.html").read_bytes()
    )
    return digest.hexdigest()[:16]


def _checkpoint_for(user, pk: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.select_related("type", "community").filter(pk=pk).first()
    if checkpoint is None or not staff_may_use(user, checkpoint):
        raise Http404
    return checkpoint


@login_required
def checkpoint_list(request):
    checkpoints = list(visible_checkpoints(request.user))
    names = county_names(c.county_code for c in checkpoints)
    for checkpoint in checkpoints:
        checkpoint.county_name = names.get(checkpoint.county_code, checkpoint.county_code)
    return render_staff(request, "checkpoints/list.html", {"checkpoints": checkpoints})


@login_required
def verify_page(request, pk: int):
    checkpoint = _checkpoint_for(request.user, pk)
    return render_staff(
        request,
        "checkpoints/verify.html",
        {
            "checkpoint": checkpoint,
            "bundle_url": reverse("api:bundle", args=[pk]),
            "verify_url": reverse("api:verify", args=[pk]),
            "scans_url": reverse("api:upload_scans", args=[pk]),
            "sw_url": reverse("checkpoints:sw"),
        },
    )


@login_required
def gate_log(request, pk: int):
    checkpoint = _checkpoint_for(request.user, pk)
    scans = GateScan.objects.filter(checkpoint=checkpoint).order_by("-scanned_at", "-id")
    page = Paginator(scans, 50).get_page(request.GET.get("page"))
    for scan in page:
        scan.colour_label = COLOUR_LABELS.get(scan.colour, scan.colour)
    return render_staff(request, "checkpoints/log.html", {"checkpoint": checkpoint, "page": page})


@never_cache
def service_worker(request):
    """Served from /checkpoints/ so its scope covers the verifier pages."""
    response = render(
        request,
        "checkpoints/sw.js",
        {"assets": [static(a) for a in VERIFIER_ASSETS], "version": assets_version()},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = "/checkpoints/"
    return response
