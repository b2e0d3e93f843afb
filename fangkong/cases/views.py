"""The case pages (issue 14): the case list (pending first), one case — classify it, record its
later events, add its contacts — the bulletin desk, and the public page of published bulletins
with their text, Excel and PDF exports.

Reading: the case keepers (fangkong.accounts.scoping.CASE_KEEPERS) and auditors, each their own
districts (another's case is a 404); the bulletin desk: the bulletin editors and auditors.
Acting: the actions decide who may and audit it; names and ID numbers are always masked here.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    BULLETIN_EDITORS,
    CASE_KEEPERS,
    has_role,
    role_of,
    scope_queryset,
)
from fangkong.accounts.scoping import require_role as must_have
from fangkong.accounts.views import render_staff
from fangkong.cases import figures as rules
from fangkong.cases.actions import (
    course_of,
    do_add_contacts,
    do_approve_bulletin,
    do_draft_bulletin,
    do_publish_bulletin,
    do_record_event,
)
from fangkong.cases.models import (
    Bulletin,
    BulletinStatus,
    Case,
    CaseContact,
    CaseEvent,
    ClinicalType,
    EventKind,
    FoundBy,
)
from fangkong.cases.pdf import bulletin_pdf
from fangkong.cases.queries import day_figures, events, figures_by_county
from fangkong.cases.wording import ZoneFigures, bulletin_text
from fangkong.codes.models import PersonCode
from fangkong.engine.id_numbers import mask, mask_name, normalise_id_number
from fangkong.people.models import DesignationKind
from fangkong.places.queries import counties
from fangkong.policies.forms import local_input_value, parse_local_time
from fangkong.zones.epidemic_free import totals as epidemic_free_totals
from fangkong.zones.stats import zone_stats

CASE_READERS = CASE_KEEPERS | {Role.AUDITOR}
DESK_READERS = BULLETIN_EDITORS | {Role.AUDITOR}
PER_PAGE = 50
TREND_DAYS = 7
MAX_CONTACTS = 500
FIGURE_LABELS = {
    "new_confirmed": "新增确诊病例",
    "of_which_conversions": "其中无症状感染者转为确诊",
    "new_asymptomatic": "新增无症状感染者",
    "discharged": "治愈出院",
    "released": "解除隔离医学观察",
    "found_in_community": "社会面筛查发现",
    "in_hospital": "在院治疗",
    "in_observation": "在院观察的无症状感染者",
}
COLOUR_LABELS = {"green": "绿码", "yellow": "黄码", "red": "红码"}
LATER_KINDS = (
    EventKind.RECLASSIFIED,
    EventKind.DISCHARGED,
    EventKind.RELEASED,
    EventKind.DIED,
)


# --- cases ---------------------------------------------------------------------------------


def _cases(user):
    return scope_queryset(Case.objects.all(), user).annotate(
        classified=Exists(CaseEvent.objects.filter(case=OuterRef("pk")))
    )


def _case(user, pk: int) -> Case:
    case = _cases(user).select_related("person", "community").filter(pk=pk).first()
    if case is None:
        raise Http404("没有这个病例,或不在您负责的区县")
    return case


def _stage(c: rules.Course) -> str:
    if c.died:
        return "死亡"
    if c.confirmed:
        return "治愈出院" if c.discharged else "确诊病例(在院)"
    if c.asymptomatic:
        return "已解除隔离医学观察" if c.released else "无症状感染者(观察中)"
    return "待分类"


@login_required
def case_list(request):
    must_have(request.user, CASE_READERS)
    rows = (
        _cases(request.user)
        .select_related("person", "community")
        .order_by("classified", "-opened_at", "-pk")
    )
    only = request.GET.get("show", "")
    if only == "pending":
        rows = rows.filter(classified=False)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    names = {c.code: c.name for c in counties()}
    # The events of the page's cases read at once, each case's course worked out from them.
    by_case: dict[int, list[rules.Event]] = {}
    for event in events(None, now, [case.pk for case in page.object_list]):
        by_case.setdefault(event.case, []).append(event)
    shown = [
        {
            "case": case,
            "name": mask_name(case.person.name),
            "id_number": mask(case.person.id_number),
            "county": names.get(case.county_code, case.county_code),
            "stage": _stage(rules.course(rules.standing(by_case.get(case.pk, []), now))),
        }
        for case in page.object_list
    ]
    return render_staff(
        request,
        "cases/list.html",
        {
            "page": page,
            "rows": shown,
            "show": only,
            "extra_query": f"show={only}" if only else "",
            "pending": _cases(request.user).filter(classified=False).count(),
        },
    )


def _colour(person_id: int, stored: dict[int, str]) -> str:
    # Only people whose code is not green have a stored code.
    return stored.get(person_id, "green")


@login_required
def case_detail(request, pk: int):
    must_have(request.user, CASE_READERS)
    case = _case(request.user, pk)
    now = timezone.now()
    c = course_of(case, now)
    standing = {e.id for e in rules.standing(events(None, now, [case.pk]), now)}
    history = list(
        CaseEvent.objects.filter(case=case).select_related("recorded_by").order_by("at", "pk")
    )
    contacts = list(
        CaseContact.objects.filter(case=case)
        .select_related("designation__person")
        .order_by("added_at", "pk")
    )
    stored = dict(
        PersonCode.objects.filter(
            person_id__in=[x.designation.person_id for x in contacts]
        ).values_list("person_id", "colour")
    )
    may_act = has_role(request.user, CASE_KEEPERS)
    return render_staff(
        request,
        "cases/case.html",
        {
            "case": case,
            "name": mask_name(case.person.name),
            "id_number": mask(case.person.id_number),
            "stage": _stage(c),
            "pending": c.first is None,
            "events": [{"event": e, "standing": e.pk in standing} for e in history],
            "contacts": [
                {
                    "name": mask_name(x.designation.person.name),
                    "id_number": mask(x.designation.person.id_number),
                    "kind": x.designation.get_kind_display(),
                    "colour": _colour(x.designation.person_id, stored),
                    "colour_label": COLOUR_LABELS.get(_colour(x.designation.person_id, stored)),
                    "added_at": x.added_at,
                }
                for x in contacts
            ],
            "may_act": may_act,
            "later_kinds": [(k.value, k.label) for k in LATER_KINDS if not rules.allowed(c, k)],
            "clinical_types": ClinicalType.choices,
            "found_by": FoundBy.choices,
            "contact_kinds": [
                (DesignationKind.CLOSE_CONTACT.value, DesignationKind.CLOSE_CONTACT.label),
                (DesignationKind.SECONDARY_CONTACT.value, DesignationKind.SECONDARY_CONTACT.label),
            ],
            "now_input": local_input_value(now),
        },
    )


def _at(request, now):
    raw = request.POST.get("at", "").strip()
    return parse_local_time(raw) if raw else now


def _back(pk: int):
    return redirect(reverse("cases:case", args=[pk]))


@login_required
@require_POST
def case_event(request, pk: int):
    """Classify a pending case (asymptomatic / confirmed) or record a later event."""
    must_have(request.user, CASE_KEEPERS)
    case = _case(request.user, pk)
    now = timezone.now()
    kind = request.POST.get("kind", "")
    try:
        at = _at(request, now)
        do_record_event(
            request.user,
            case,
            kind,
            at,
            now=now,
            clinical_type=request.POST.get("clinical_type", ""),
            found_by=request.POST.get("found_by", ""),
        )
    except (ValueError, PermissionDenied) as exc:
        messages.error(request, f"未能登记:{exc}")
        return _back(case.pk)
    label = EventKind(kind).label if kind in EventKind.values else kind
    messages.success(request, f"已登记:{label}。")
    return _back(case.pk)


def id_numbers_of(text: str) -> list[str]:
    """One ID number a line; blank lines and repeats dropped."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        value = normalise_id_number(line)
        if value:
            seen[value] = None
    return list(seen)


@login_required
@require_POST
def case_contacts(request, pk: int):
    must_have(request.user, CASE_KEEPERS)
    case = _case(request.user, pk)
    numbers = id_numbers_of(request.POST.get("id_numbers", ""))
    designated_by = request.POST.get("designated_by", "").strip()[:100]
    if not numbers:
        messages.error(request, "请填写接触者的身份证号,每行一个。")
        return _back(case.pk)
    if len(numbers) > MAX_CONTACTS:
        messages.error(request, f"一次最多添加{MAX_CONTACTS}人。")
        return _back(case.pk)
    if not designated_by:
        messages.error(request, "请填写判定单位。")
        return _back(case.pk)
    try:
        added = do_add_contacts(
            request.user,
            case,
            numbers,
            kind=request.POST.get("kind", ""),
            designated_by=designated_by,
            now=timezone.now(),
        )
    except (ValueError, PermissionDenied) as exc:
        messages.error(request, f"未能添加接触者:{exc}")
        return _back(case.pk)
    messages.success(request, f"已判定{len(added)}名接触者,其健康码已随之更新。")
    return _back(case.pk)


# --- the bulletin desk ---------------------------------------------------------------------


def _today() -> date:
    return timezone.now().astimezone(rules.BEIJING).date()


def _day(raw: str) -> tuple[date, str]:
    raw = (raw or "").strip()
    if not raw:
        return _today(), ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return _today(), f"日期:“{raw[:20]}”不是有效的日期,应如 2022-04-21;已显示今天"


def trend(day: date, now) -> dict:
    """The figures of the seven days up to `day`, as known now: what cases-trend.js draws."""
    days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    rows = [day_figures(d, now) for d in days]
    keys = ("new_confirmed", "new_asymptomatic", "discharged", "released")
    return {
        "days": [d.isoformat() for d in days],
        "series": [
            {"key": k, "label": FIGURE_LABELS[k], "values": [getattr(f, k) for f in rows]}
            for k in keys
        ],
    }


def _figure_rows(numbers: dict) -> list[dict]:
    return [{"label": FIGURE_LABELS.get(k, k), "value": v} for k, v in numbers.items()]


def _corrections(bulletin: Bulletin) -> list[dict]:
    return [
        {**c, "label": FIGURE_LABELS.get(c["figure"], c["figure"])} for c in bulletin.corrections
    ]


def zone_figures(day: date, now: datetime) -> ZoneFigures | None:
    """The zones' figures a day's bulletin cites, as known at `now` (the zones app's own counts,
    as `fangkong zones stats` gives them): the medium-risk areas standing at the end of the day
    before, and the epidemic-free communities and towns published and in force at `now`. None
    when the city has no zone data: no community standing in any zone or risk level then, and
    no epidemic-free batch published."""
    end_of_day_before = datetime.combine(day, time(), tzinfo=rules.BEIJING)
    standing = zone_stats(min(end_of_day_before, now))
    free = epidemic_free_totals(now)
    levels = {**standing["zones"], **standing["risk_areas"]}
    if not any(levels.values()) and not free["batches"]:
        return None
    return ZoneFigures(
        day=day - timedelta(days=1),
        medium_risk=standing["risk_areas"]["medium"],
        epidemic_free_communities=free["city"]["community"],
        epidemic_free_towns=free["city"]["town"],
    )


@login_required
def bulletin_desk(request):
    must_have(request.user, DESK_READERS)
    day, error = _day(request.GET.get("date", ""))
    now = timezone.now()
    figures = day_figures(day, now)
    names = {c.code: c.name for c in counties()}
    versions = list(
        Bulletin.objects.filter(date=day)
        .select_related("drafted_by", "approved_by", "published_by")
        .order_by("-version")
    )
    for b in versions:
        b.shown_corrections = _corrections(b)
        b.shown_figures = _figure_rows(b.figures)
    return render_staff(
        request,
        "cases/desk.html",
        {
            "day": day,
            "now": now,
            "error": error,
            "text": bulletin_text(day, figures, zones=zone_figures(day, now)),
            "figures": _figure_rows(
                {
                    **figures.published(),
                    "found_in_community": figures.found_in_community,
                    "in_hospital": figures.in_hospital,
                    "in_observation": figures.in_observation,
                }
            ),
            "by_county": [
                {"name": names.get(code, code), "figures": f}
                for code, f in figures_by_county(day, now).items()
            ],
            "trend": trend(day, now),
            "versions": versions,
            "may_edit": role_of(request.user) in BULLETIN_EDITORS,
        },
        status=400 if error else 200,
    )


def _desk(day: date):
    return redirect(f"{reverse('cases:desk')}?date={day.isoformat()}")


@login_required
@require_POST
def bulletin_draft(request):
    must_have(request.user, BULLETIN_EDITORS)
    day, error = _day(request.POST.get("date", ""))
    if error:
        messages.error(request, error)
        return _desk(day)
    now = timezone.now()
    bulletin = do_draft_bulletin(request.user, day, now=now, zones=zone_figures(day, now))
    messages.success(request, f"已起草{bulletin.date:%-m月%-d日}通报第{bulletin.version}版。")
    return _desk(day)


def _step(request, pk: int, action, done: str):
    must_have(request.user, BULLETIN_EDITORS)
    bulletin = get_object_or_404(Bulletin, pk=pk)
    try:
        action(request.user, bulletin, now=timezone.now())
    except (ValueError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _desk(bulletin.date)
    messages.success(request, f"{bulletin.date:%-m月%-d日}通报第{bulletin.version}版{done}。")
    return _desk(bulletin.date)


@login_required
@require_POST
def bulletin_approve(request, pk: int):
    return _step(request, pk, do_approve_bulletin, "已审核")


@login_required
@require_POST
def bulletin_publish(request, pk: int):
    return _step(request, pk, do_publish_bulletin, "已发布")


# --- public --------------------------------------------------------------------------------


def _published():
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED)


@cache_control(public=True, max_age=60)
def public(request):
    rows = _published().order_by("-date", "-version")
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    for b in page.object_list:
        b.shown_corrections = _corrections(b)
    return render(request, "cases/public.html", {"page": page})


def _title(bulletin: Bulletin) -> str:
    return f"长春市{bulletin.date.month}月{bulletin.date.day}日疫情通报(第{bulletin.version}版)"


def _export_lines(bulletin: Bulletin) -> list[str]:
    lines = [
        _title(bulletin),
        f"发布时间:{bulletin.published_at.astimezone(rules.BEIJING):%Y-%m-%d %H:%M}(北京时间)",
        "",
        bulletin.text,
    ]
    if bulletin.corrections:
        lines += ["", "更正:"]
        lines += [
            f"{c['label']}:由{c['published']}更正为{c['now']}" for c in _corrections(bulletin)
        ]
    return lines


@cache_control(public=True, max_age=60)
def public_text(request, pk: int):
    bulletin = get_object_or_404(_published(), pk=pk)
    response = HttpResponse(
        "\n".join(_export_lines(bulletin)) + "\n", content_type="text/plain; charset=utf-8"
    )
    name = f"bulletin-{bulletin.date.isoformat()}-v{bulletin.version}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@cache_control(public=True, max_age=60)
def public_xlsx(request, pk: int):
    from openpyxl import Workbook

    bulletin = get_object_or_404(_published(), pk=pk)
    book = Workbook()
    sheet = book.active
    sheet.title = "通报"
    sheet.append(["标题", _title(bulletin)])
    sheet.append(["日期", bulletin.date.isoformat()])
    sheet.append(["版本", bulletin.version])
    sheet.append(
        ["发布时间", bulletin.published_at.astimezone(rules.BEIJING).strftime("%Y-%m-%d %H:%M")]
    )
    sheet.append(["通报文本", bulletin.text])
    sheet.append([])
    sheet.append(["项目", "人数"])
    for row in _figure_rows(bulletin.figures):
        sheet.append([row["label"], row["value"]])
    if bulletin.corrections:
        sheet.append([])
        sheet.append(["更正项目", "原发布", "更正为"])
        for c in _corrections(bulletin):
            sheet.append([c["label"], c["published"], c["now"]])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"bulletin-{bulletin.date.isoformat()}-v{bulletin.version}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@cache_control(public=True, max_age=60)
def public_pdf(request, pk: int):
    bulletin = get_object_or_404(_published(), pk=pk)
    published = bulletin.published_at.astimezone(rules.BEIJING)
    day = bulletin.date
    content = bulletin_pdf(
        title=f"长春市新冠肺炎疫情通报 {day.year}年{day.month}月{day.day}日",
        published=f"第{bulletin.version}版 · 发布时间:{published:%Y-%m-%d %H:%M}(北京时间)",
        text=bulletin.text,
        figures=[(row["label"], row["value"]) for row in _figure_rows(bulletin.figures)],
        corrections=[
            f"{c['label']}:由{c['published']}更正为{c['now']}" for c in _corrections(bulletin)
        ],
    )
    response = HttpResponse(content, content_type="application/pdf")
    name = f"bulletin-{bulletin.date.isoformat()}-v{bulletin.version}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
