"""The clearance state machine: every path a request can take, and what can never happen."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.engine.clearances import (
    APPROVE,
    APPROVED,
    FINAL,
    MORE_EVIDENCE,
    REJECT,
    REQUEST_EVIDENCE,
    RESUBMIT,
    START_REVIEW,
    SUBMITTED,
    TRANSITIONS,
    UNDER_REVIEW,
    WITHDRAW,
    TransitionError,
    submit,
    transition,
)

T0 = datetime(2022, 4, 24, 9, tzinfo=UTC)


def review(c, action, reason="", actor="reviewer-nanguan", minutes=1):
    return transition(
        c,
        action,
        actor=actor,
        side="reviewer",
        now=c.at + timedelta(minutes=minutes),
        reason=reason,
    )


def test_an_appeal_is_reviewed_sent_back_for_evidence_resubmitted_and_approved():
    c = submit("resident-42", T0, "4月21日在南岭街道采样点采样,未扫码")
    c = review(c, START_REVIEW)
    c = review(c, REQUEST_EVIDENCE, "请上传采样小票照片")
    assert c.status == MORE_EVIDENCE
    c = transition(c, RESUBMIT, actor="resident-42", side="applicant", now=c.at)
    c = review(review(c, START_REVIEW), APPROVE, "采样小票与采样点记录一致")
    assert c.status == APPROVED
    assert c.decision.reason == "采样小票与采样点记录一致"
    assert [s.status for s in c.steps] == [
        SUBMITTED,
        UNDER_REVIEW,
        MORE_EVIDENCE,
        SUBMITTED,
        UNDER_REVIEW,
        APPROVED,
    ]


def test_a_decision_without_a_reason_is_refused():
    c = review(submit("resident-42", T0), START_REVIEW)
    with pytest.raises(TransitionError, match="须写明理由"):
        review(c, REJECT, "  ")


def test_nobody_decides_a_request_they_submitted():
    c = submit("hotline-7", T0)
    with pytest.raises(TransitionError, match="不能审核本人提交的申请"):
        review(c, START_REVIEW, actor="hotline-7")


def test_an_approved_request_cannot_be_withdrawn_or_decided_again():
    c = review(review(submit("employer-1", T0), START_REVIEW), APPROVE, "名单核实无误")
    with pytest.raises(TransitionError, match="已通过"):
        transition(c, WITHDRAW, actor="employer-1", side="applicant", now=c.at)
    with pytest.raises(TransitionError, match="已通过"):
        review(c, REJECT, "改判")


def test_only_the_applicants_side_withdraws_and_only_reviewers_approve():
    c = submit("resident-42", T0)
    with pytest.raises(TransitionError, match="只有申请方"):
        transition(c, WITHDRAW, actor="reviewer", side="reviewer", now=T0)
    with pytest.raises(TransitionError, match="只有审核人员"):
        transition(
            review(c, START_REVIEW),
            APPROVE,
            actor="resident-42",
            side="applicant",
            now=T0 + timedelta(hours=1),
            reason="x",
        )


ACTORS = st.sampled_from(["resident-42", "reviewer-a", "reviewer-b"])
MOVES = st.lists(
    st.tuples(
        st.sampled_from(sorted(TRANSITIONS)),
        ACTORS,
        st.sampled_from(["reviewer", "applicant"]),
        st.sampled_from(["", "理由"]),
        st.integers(min_value=-5, max_value=120),
    ),
    max_size=25,
)


@given(MOVES)
def test_any_sequence_of_steps_keeps_the_rules(moves):
    c = submit("resident-42", T0)
    taken = 0
    for action, actor, side, reason, minutes in moves:
        before = c
        try:
            c = transition(
                c,
                action,
                actor=actor,
                side=side,
                now=c.at + timedelta(minutes=minutes),
                reason=reason,
            )
        except TransitionError:
            assert c == before  # a refused step changes nothing
            continue
        taken += 1
        assert before.status not in FINAL  # final states never move
        assert c.status == TRANSITIONS[action][1]
        if action in (APPROVE, REJECT, REQUEST_EVIDENCE):
            assert reason and actor != "resident-42" and side == "reviewer"
    assert len(c.steps) == taken + 1 and c.steps[-1].status == c.status
    assert all(a.at <= b.at for a, b in zip(c.steps, c.steps[1:], strict=False))
    if c.status == APPROVED:  # approval only ever follows a review begun by a reviewer
        assert c.steps[-2].status == UNDER_REVIEW
