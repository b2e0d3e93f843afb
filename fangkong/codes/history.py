"""A person's code changes as people read them: a change caused by a policy version ("publish
cc-2022-0420-untested v1") is named by that version's title, the id kept for staff."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fangkong.codes.models import CodeChange
from fangkong.policies.models import PolicyVersion

_VERSION_DETAIL = re.compile(r"^(?P<policy>\S+) v(?P<version>\d+)$")


def titles_of(pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Titles of policy versions, in one query."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = PolicyVersion.objects.filter(policy_id__in={p for p, _ in pairs}).values_list(
        "policy_id", "version", "title"
    )
    return {(p, v): title for p, v, title in rows if (p, v) in pairs}


def described(changes: list[CodeChange]) -> list[CodeChange]:
    """Each change gains `detail_title` (the policy version's title, when the detail names one,
    else the detail itself), `detail_ref` (the id and version, for staff) and `policy_titles`
    (the titles of the reasons behind its new colour)."""
    refs = {}
    for change in changes:
        found = _VERSION_DETAIL.match(change.cause_detail)
        refs[change.pk] = (found["policy"], int(found["version"])) if found else None
    titles = titles_of(ref for ref in refs.values() if ref)
    for change in changes:
        ref = refs[change.pk]
        change.detail_title = titles.get(ref, "") if ref else change.cause_detail
        change.detail_ref = change.cause_detail if ref else ""
        change.policy_titles = [r.get("title") or r.get("policy", "") for r in change.reasons]
    return changes
