"""What a resident's code page shows, assembled from one evaluation of their facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fangkong.codes.models import CodeChange, PersonCode
from fangkong.codes.queries import person_facts
from fangkong.codes.tokens import CodeToken, issue_code_token
from fangkong.engine.evaluate import Code, evaluate
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.engine.testing_state import PersonTestState, derive_testing_state
from fangkong.people.models import Person
from fangkong.policies.queries import published_policies

RECENCY_BADGES = (24, 48, 72)  # 24/48/72小时内核酸阴性


@dataclass
class CodePage:
    person: Person
    name: str
    id_number: str
    code: Code
    testing: PersonTestState
    token: CodeToken
    now: datetime

    @property
    def negative_within(self) -> int | None:
        """The smallest of 24/48/72 hours within which the person was sampled negative."""
        pcr = self.token.claims.get("pcr")
        if pcr is None:
            return None
        hours = (self.now.timestamp() - pcr) / 3600
        return next((h for h in RECENCY_BADGES if hours <= h), None)

    @property
    def latest_sampling_hours(self) -> int | None:
        latest = self.testing.latest_sampling
        if latest is None:
            return None
        return int((self.now - latest.sampling.sampled_at).total_seconds() // 3600)


def _sync_stored_code(person: Person, code: Code, now: datetime) -> None:
    """The page evaluates the person exactly; if the stored code lags (a time-driven change not
    yet swept), store the change now so checkpoints see what the resident sees."""
    stored = PersonCode.objects.filter(pk=person.pk).values_list("colour", flat=True).first()
    if (stored or "green") != code.colour:
        from fangkong.codes.actions import do_reevaluate

        do_reevaluate([person.pk], now, cause=CodeChange.Cause.TIME, detail="居民查看时重新判定")


def _evaluate(person: Person, now: datetime) -> tuple[Code, PersonTestState]:
    facts = person_facts(person)
    code = evaluate(published_policies(now), facts, now)
    testing = code.testing or derive_testing_state(facts.samplings, facts.results, now)
    return code, testing


def code_page(person: Person, now: datetime) -> CodePage:
    code, testing = _evaluate(person, now)
    _sync_stored_code(person, code, now)
    return CodePage(
        person=person,
        name=mask_name(person.name),
        id_number=mask(person.id_number),
        code=code,
        testing=testing,
        token=issue_code_token(person, code.colour, testing, now),
        now=now,
    )


def qr_token(person: Person, now: datetime) -> CodeToken:
    """A fresh token for the QR refresh, on the same evaluation as the page."""
    code, testing = _evaluate(person, now)
    _sync_stored_code(person, code, now)
    return issue_code_token(person, code.colour, testing, now)
