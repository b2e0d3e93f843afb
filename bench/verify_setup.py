"""The database of the HTTP part of the verification benchmark, built by the current code in a
child process: the demo city, everyone's code as of now, a checkpoint with its device key,
code tokens issued through the resident page's own path, and signed-in resident sessions.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from common import setup_django
from verify_server import TOKEN_TTL

BENCH_DB = "fangkong_bench_verify"


def child_setup(args) -> dict:
    """The bench database: demo city, codes as of now, a checkpoint, tokens and sessions."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.checkpoints.actions import do_create_checkpoint
    from fangkong.codes.actions import do_recompute
    from fangkong.demo.story import run_story
    from fangkong.people.models import Person
    from fangkong.residents.page import qr_token
    from fangkong.residents.session import SESSION_KEY

    assert settings.CODE_TOKEN_TTL_SECONDS == TOKEN_TTL
    folder = Path(args.data)
    out: dict = {}
    tick = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # as a deployment does
    out["migrate_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    story = run_story(residents=args.residents, seed=args.seed)
    out["demo_s"] = time.perf_counter() - tick
    out["demo_text"] = story["text"]
    # The stored codes as of now, as the periodic sweep leaves them: otherwise the first page
    # view of each resident would store a time-driven change and the run would measure that.
    tick = time.perf_counter()
    recompute = do_recompute(timezone.now())
    out["recompute"] = {"s": time.perf_counter() - tick, "changed": recompute.changed}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a load, done now

    now = timezone.now()
    checkpoint, device_key = do_create_checkpoint(
        None, name="压测卡口(公共场所)", type_code="public_place", county_code="220102", now=now
    )
    ids = list(Person.objects.values_list("pk", flat=True))
    rng = random.Random(args.seed)
    people = Person.objects.in_bulk(rng.sample(ids, min(args.tokens_http, len(ids))))
    tick = time.perf_counter()
    # The resident page's own path: the stored code and the person's tests read, then signed.
    tokens = [qr_token(person, now).token for person in people.values()]
    out["issue_s"] = time.perf_counter() - tick
    (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")

    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    tick = time.perf_counter()
    for pk in rng.sample(ids, min(args.sessions, len(ids))):
        session = store()
        session[SESSION_KEY] = pk
        session.save()  # no key yet: creates one
        sessions.append(session.session_key)
    out["sessions_s"] = time.perf_counter() - tick
    (folder / "sessions.txt").write_text("\n".join(sessions) + "\n")
    out.update(
        people=len(ids),
        checkpoint=checkpoint.pk,
        device_key=device_key,
        tokens=len(tokens),
        sessions=len(sessions),
    )
    connection.close()
    return out
