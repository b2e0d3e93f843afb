"""A guard for tests of the resident page: any evaluation of codes while it is on fails the
test. The page and its renewal read stored codes; evaluating is the clock's and ingestion's
job (docs/resident-page.md)."""

from contextlib import contextmanager

import pytest

# Every name an evaluation of codes goes through: the per-person and the batch evaluator, where
# they are defined and where callers imported them, the facts reader that feeds the first, and
# the per-policy step the first calls by its module's name (so that an `evaluate` imported
# anywhere else is caught too).
EVALUATORS = (
    "fangkong.engine.evaluate.evaluate",
    "fangkong.engine.evaluate._fires",
    "fangkong.codes.queries.evaluate",
    "fangkong.codes.queries.person_facts",
    "fangkong.engine.batch.evaluate_batch",
    "fangkong.codes.actions.evaluate_batch",
    "fangkong.codes.queries.evaluate_batch",
    "fangkong.policies.actions.evaluate_batch",
)


def _refuse(*args, **kwargs):
    raise AssertionError("the resident page evaluated a code")


@contextmanager
def no_evaluation():
    with pytest.MonkeyPatch.context() as patch:
        for name in EVALUATORS:
            patch.setattr(name, _refuse)
        yield
