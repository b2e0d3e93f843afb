"""Cities built once per module.

The April replay assesses every community and town of 长春 on every day of 1–20 April, so it
takes about as long for 2 000 residents as for 20 000. The tests that read the April zones
share one replayed city per module (`april_city`); the tests of codes, clearances and accounts,
which do not concern zones, share one city without it (`story_city`: `run_story(...,
zones=False)`).

Each is built inside a transaction opened for the module and rolled back after its last test;
each test runs in a savepoint inside it (pytest-django's `django_db`), so what one test adds
the next does not see.
"""

import json

import pytest
from django.db import transaction

from fangkong.cli import build_parser
from fangkong.demo.story import run_story

SMALL = 2000


def _for_the_module(django_db_blocker, zones: bool):
    with django_db_blocker.unblock(), transaction.atomic():
        # Without the zones, without the desk around the registry too: the tests of passes,
        # tickets and supplies replay their part themselves.
        yield run_story(residents=SMALL, seed=7, zones=zones, desk=zones)
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def april_city(django_db_setup, django_db_blocker):
    """`fangkong demo`'s story of a city of SMALL residents, April zones included."""
    yield from _for_the_module(django_db_blocker, zones=True)


@pytest.fixture(scope="module")
def story_city(django_db_setup, django_db_blocker):
    """The same story without the zones of 1–20 April."""
    yield from _for_the_module(django_db_blocker, zones=False)


def stats(capsys, as_of: str) -> dict:
    """`fangkong zones stats --as-of AS_OF --json`, as the README's JSON contract reads it."""
    args = build_parser().parse_args(["zones", "stats", "--as-of", as_of, "--json"])
    capsys.readouterr()
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)
