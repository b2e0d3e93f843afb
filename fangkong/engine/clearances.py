"""The life of a clearance request (解码申请), as a pure state machine.

One model for every channel (employer batch, online appeal, 12345 hotline):

    submitted ──start_review──▶ under_review ──approve──▶ approved
        ▲                          │   └─────reject───▶ rejected
        └──────resubmit── more_evidence ◀─request_evidence─┘
    submitted / more_evidence ──withdraw──▶ withdrawn

- A decision (approve, reject, request_evidence) always carries a reason: the resident reads it.
- Nobody decides a request they submitted (a hotline operator who opened it on a caller's behalf,
  an employer's liaison), and only the applicant's side withdraws or resubmits.
- Approved, rejected and withdrawn are final: a new request is a new clearance.
- Time never runs backwards within a request.
Django-free: the clearances app stores the state and writes the audit record of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
MORE_EVIDENCE = "more_evidence"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

STATUS_LABELS = {
    SUBMITTED: "已提交",
    UNDER_REVIEW: "审核中",
    MORE_EVIDENCE: "需补充材料",
    APPROVED: "已通过",
    REJECTED: "未通过",
    WITHDRAWN: "已撤回",
}
FINAL = frozenset({APPROVED, REJECTED, WITHDRAWN})

START_REVIEW = "start_review"
APPROVE = "approve"
REJECT = "reject"
REQUEST_EVIDENCE = "request_evidence"
RESUBMIT = "resubmit"
WITHDRAW = "withdraw"

# action: (from statuses, to status, who may: "reviewer" or "applicant", reason required)
TRANSITIONS = {
    START_REVIEW: (frozenset({SUBMITTED}), UNDER_REVIEW, "reviewer", False),
    APPROVE: (frozenset({UNDER_REVIEW}), APPROVED, "reviewer", True),
    REJECT: (frozenset({UNDER_REVIEW}), REJECTED, "reviewer", True),
    REQUEST_EVIDENCE: (frozenset({UNDER_REVIEW}), MORE_EVIDENCE, "reviewer", True),
    RESUBMIT: (frozenset({MORE_EVIDENCE}), SUBMITTED, "applicant", False),
    WITHDRAW: (frozenset({SUBMITTED, MORE_EVIDENCE}), WITHDRAWN, "applicant", False),
}
ACTION_LABELS = {
    START_REVIEW: "开始审核",
    APPROVE: "通过",
    REJECT: "不通过",
    REQUEST_EVIDENCE: "要求补充材料",
    RESUBMIT: "补充材料后重新提交",
    WITHDRAW: "撤回",
}


class TransitionError(ValueError):
    """A step the request cannot take; the message says why, in Chinese."""


@dataclass(frozen=True)
class Step:
    action: str  # "submit" for the first step
    status: str  # the status after the step
    actor: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class Clearance:
    status: str
    submitted_by: str
    steps: tuple[Step, ...]

    @property
    def at(self) -> datetime:
        return self.steps[-1].at

    @property
    def decision(self) -> Step | None:
        """The final decision (approve / reject), if made."""
        last = self.steps[-1]
        return last if last.action in (APPROVE, REJECT) else None


def submit(applicant: str, now: datetime, note: str = "") -> Clearance:
    if not applicant:
        raise TransitionError("申请人不能为空")
    return Clearance(SUBMITTED, applicant, (Step("submit", SUBMITTED, applicant, now, note),))


def transition(
    clearance: Clearance, action: str, *, actor: str, side: str, now: datetime, reason: str = ""
) -> Clearance:
    """The request after `actor` (on the `side` "reviewer" or "applicant") takes `action`."""
    if action not in TRANSITIONS:
        raise TransitionError(f"未知的操作: {action}")
    sources, target, allowed_side, needs_reason = TRANSITIONS[action]
    label = ACTION_LABELS[action]
    if clearance.status in FINAL:
        raise TransitionError(f"申请{STATUS_LABELS[clearance.status]},不能再{label}")
    if clearance.status not in sources:
        raise TransitionError(f"申请{STATUS_LABELS[clearance.status]}时不能{label}")
    if side != allowed_side:
        raise TransitionError(
            f"只有{'审核人员' if allowed_side == 'reviewer' else '申请方'}可以{label}"
        )
    if side == "reviewer" and actor == clearance.submitted_by:
        raise TransitionError("不能审核本人提交的申请")
    reason = reason.strip()
    if needs_reason and not reason:
        raise TransitionError(f"{label}须写明理由(居民可见)")
    if now < clearance.at:
        raise TransitionError("时间早于上一步,请检查系统时钟")
    return replace(
        clearance, status=target, steps=(*clearance.steps, Step(action, target, actor, now, reason))
    )
