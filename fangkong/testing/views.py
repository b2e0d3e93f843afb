"""Testing-site pages (采样点管理): the list of the user's districts (search, filter, paged), a
site's page (details, samplings by day, changes) and the forms that create, edit, close and
reopen a site through fangkong.testing.actions.

Reading: `SITE_READERS`, each in their districts; a site of another district is a 404, as if it
did not exist. Changing: `SITE_MANAGERS` (fangkong.testing.actions.can_manage).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.scoping import districts_of, has_role, require_role, scope_queryset
from fangkong.accounts.views import county_names, render_staff
from fangkong.ingest.actions import UPLOADERS
from fangkong.places.models import Division, Level
from fangkong.places.queries import counties
from fangkong.testing.actions import (
    SITE_MANAGERS,
    SITE_READERS,
    can_manage,
    do_close_site,
    do_create_site,
    do_reopen_site,
    do_update_site,
)
from fangkong.testing.forms import EditSiteForm, NewSiteForm, StatusForm
from fangkong.testing.models import SiteKind, SiteStatus, TestingSite
from fangkong.testing.queries import site_samplings_by_day

PER_PAGE = 50
DAYS_SHOWN = 60
DONE = {"close": "已关闭该采样点,此后在该点的采样不予接收。", "reopen": "已重新开放该采样点。"}


def _visible(user):
    return scope_queryset(TestingSite.objects.all(), user)


def _my_counties(user) -> list[Division]:
    scope = districts_of(user)
    return [c for c in counties() if scope is None or c.code in scope]


@login_required
def site_list(request):
    require_role(request.user, SITE_READERS)
    mine = _my_counties(request.user)
    query = request.GET.get("q", "").strip()[:64]
    county = request.GET.get("county", "")
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    sites = _visible(request.user)
    if query:
        sites = sites.filter(Q(code__icontains=query) | Q(name__icontains=query))
    county = county if county in {c.code for c in mine} else ""
    kind = kind if kind in SiteKind.values else ""
    status = status if status in SiteStatus.values else ""
    for field, value in (("county_code", county), ("kind", kind), ("status", status)):
        if value:
            sites = sites.filter(**{field: value})
    page = Paginator(sites.select_related("community").order_by("code"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    names = {c.code: c.name for c in mine}
    for site in page:
        site.county_name = names.get(site.county_code, site.county_code)
    filters = (("q", query), ("county", county), ("kind", kind), ("status", status))
    return render_staff(
        request,
        "testing/site_list.html",
        {
            "page": page,
            "query": query,
            "county": county,
            "kind": kind,
            "status": status,
            "counties": mine if len(mine) > 1 else [],
            "kinds": SiteKind.choices,
            "statuses": SiteStatus.choices,
            "extra_query": urlencode([(k, v) for k, v in filters if v]),
            "can_create": has_role(request.user, SITE_MANAGERS),
            "can_upload": has_role(request.user, UPLOADERS["sites"]),
        },
    )


def _site_page(request, site: TestingSite, edit=None, status_form=None, code=200):
    manage = can_manage(request.user, site)
    if manage:
        edit = edit or EditSiteForm(
            initial={
                "name": site.name,
                "community_code": site.community_id,
                "address": site.address,
                "kind": site.kind,
            }
        )
        status_form = status_form or StatusForm()
    community = site.community
    return render_staff(
        request,
        "testing/site.html",
        {
            "site": site,
            "street": community.parent if community.parent_id else None,
            "county_name": county_names([site.county_code]).get(site.county_code, ""),
            "days": site_samplings_by_day(site.pk, DAYS_SHOWN),
            "days_shown": DAYS_SHOWN,
            "revisions": site.revisions.select_related("recorded_by").order_by("-valid_until"),
            "edit": edit if manage else None,
            "status_form": status_form if manage else None,
            "communities": _communities(request.user) if manage else [],
        },
        status=code,
    )


def _communities(user) -> list[Division]:
    """The communities a site may be placed in, for the form's suggestions."""
    return list(
        scope_queryset(Division.objects.filter(level=Level.COMMUNITY, is_current=True), user)
        .select_related("parent")
        .order_by("code")
    )


def _scoped(request, pk: int) -> TestingSite:
    require_role(request.user, SITE_READERS)
    return get_object_or_404(_visible(request.user).select_related("community__parent"), pk=pk)


def _managed(request, pk: int) -> TestingSite:
    site = _scoped(request, pk)
    if not can_manage(request.user, site):
        raise PermissionDenied("您的角色无权管理采样点")
    return site


def _message(exc: Exception) -> str:
    """What went wrong, as the form shows it (a place outside the user's districts included)."""
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@login_required
def site_detail(request, pk: int):
    return _site_page(request, _scoped(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def site_new(request):
    require_role(request.user, SITE_MANAGERS)
    form = NewSiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = do_create_site(
                request.user, form.cleaned_data["code"], form.details, timezone.now()
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(request, f"已创建采样点 {site.code} {site.name}。")
            return redirect("ingest:site", pk=site.pk)
    return render_staff(
        request,
        "testing/site_new.html",
        {"form": form, "communities": _communities(request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def site_edit(request, pk: int):
    site = _managed(request, pk)
    form = EditSiteForm(request.POST)
    if form.is_valid():
        try:
            do_update_site(
                request.user, site, form.details, form.cleaned_data["reason"], timezone.now()
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(request, "已保存修改。")
            return redirect("ingest:site", pk=site.pk)
    return _site_page(request, site, edit=form, code=400)


@login_required
@require_POST
def site_status(request, pk: int, action: str):
    site = _managed(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        act = do_close_site if action == "close" else do_reopen_site
        try:
            act(request.user, site, form.cleaned_data["reason"], timezone.now())
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(request, DONE[action])
            return redirect("ingest:site", pk=site.pk)
    return _site_page(request, site, status_form=form, code=400)
