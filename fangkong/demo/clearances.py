"""The demo's employer batches: the ≈2 % of workers sampled without their code being scanned are
put on their employers' lists (with the site and time they were really sampled at) through the
same upload the liaison uses, and the command centre approves them — all but the demo employer's
own list, left on the review desk for whoever tries the demo.

Run at the real `now` after the story: the April 2022 facts are in, the seed rule is published.
Idempotent: the same list is the same batch, decided requests are left alone.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.accounts.models import Role, StaffProfile
from fangkong.clearances.batches import do_decide_batch, do_submit_batch
from fangkong.codes.queries import explain
from fangkong.demo.rounds import ROUND_1
from fangkong.demo.story import SEED_RULE
from fangkong.engine.gate_rules import LOCAL
from fangkong.people.models import Person
from fangkong.testing.models import Sampling

DEMO_EMPLOYER_ACCOUNT = "employer"
APPROVER = "command"
# A one-page PDF: the employer's signed certificate would be a scan; its content is not read.
CERTIFICATE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _claimed_sampling(person: Person) -> tuple[str, datetime] | None:
    """Where and when a neighbour of theirs was sampled in the round: the same community, else
    the same street, else the same district (a small demo city leaves many communities empty)."""
    days = ROUND_1.days
    start = datetime.combine(days[0], time(), LOCAL)
    end = datetime.combine(days[-1], time(), LOCAL) + timedelta(days=1)
    in_round = Sampling.objects.filter(sampled_at__gte=start, sampled_at__lt=end)
    for near in (
        {"person__community_id": person.community_id},
        {"person__community__parent_id": person.community.parent_id},
        {"person__county_code": person.county_code},
    ):
        row = (
            in_round.filter(**near)
            .order_by("sampled_at")
            .values_list("site__code", "sampled_at")
            .first()
        )
        if row is not None:
            return row
    return None


def _liaison(employer: str, number: int, demo_employer: str):
    """The demo employer's own account, or a liaison account (no password) for each company."""
    username = DEMO_EMPLOYER_ACCOUNT if employer == demo_employer else f"liaison{number:04d}"
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    StaffProfile.objects.update_or_create(
        user=user,
        defaults={"role": Role.EMPLOYER, "organisation": employer},
    )
    return user


def _list_file(rows: list[tuple[Person, str, datetime]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["身份证号", "姓名", "采样点", "采样时间"])
    for person, site, at in rows:
        local = at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
        writer.writerow([person.id_number, person.name, site, local])
    return out.getvalue().encode("utf-8-sig")


def seed_clearances(unscanned_ids: list[str], now: datetime) -> dict:
    """Submit one batch per employer; approve every batch but the demo employer's."""
    by_employer: dict[str, list] = defaultdict(list)
    people = (
        Person.objects.filter(id_number__in=unscanned_ids)
        .exclude(employer="")
        .select_related("community")
    )
    for person in people.order_by("id"):
        if not any(r.policy == SEED_RULE for r in explain(person, now).reasons):
            continue  # sampled in a later round: already green
        claimed = _claimed_sampling(person)
        if claimed is not None:
            by_employer[person.employer].append((person, *claimed))
    # The demo employer account speaks for the company with the most such workers, so that
    # whoever tries the demo finds a real list waiting. Seeded again, it keeps its company.
    demo_employer = (
        StaffProfile.objects.filter(user__username=DEMO_EMPLOYER_ACCOUNT, role=Role.EMPLOYER)
        .values_list("organisation", flat=True)
        .first()
    )
    if demo_employer not in by_employer and by_employer:
        demo_employer = max(sorted(by_employer), key=lambda e: len(by_employer[e]))
    approver = get_user_model().objects.get(username=APPROVER)
    figures = {"batches": 0, "rows": 0, "approved": 0, "pending": 0}
    for number, employer in enumerate(sorted(by_employer)):
        rows = by_employer[employer]
        user = _liaison(employer, number, demo_employer)
        # Lists arrive over the last two days and take a few hours to a day and a half to
        # decide, so the desk's clock and the figures show something; the demo employer's list
        # has waited past the service time.
        submitted = now - timedelta(hours=30 + number * 7 % 18)
        batch = do_submit_batch(
            SimpleUploadedFile("员工核酸采样名单.csv", _list_file(rows), "text/csv"),
            SimpleUploadedFile("单位证明.pdf", CERTIFICATE, "application/pdf"),
            SEED_RULE,
            user,
            submitted,
            note="以上员工4月20日至22日在所在小区采样点参加核酸检测,采样时未扫码。",
        )
        figures["batches"] += 1
        figures["rows"] += batch.rows_accepted
        if employer == demo_employer:
            figures["pending"] += batch.rows_accepted
            figures["demo_batch"] = batch.pk
            continue
        decided_at = batch.uploaded_at + timedelta(hours=2 + number * 5 % 27, minutes=number % 60)
        decided = do_decide_batch(
            batch.pk, "approve", approver, decided_at, "单位证明与采样点登记时间一致,予以解码"
        )
        figures["approved"] += decided.decided
    return figures
