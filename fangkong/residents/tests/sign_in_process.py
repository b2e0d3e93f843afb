"""A client asking for sign-in codes from a process of its own (test_sign_in_limits starts
several, as if several app nodes served one client at once): COUNT requests from ADDRESS for
unregistered ID numbers FIRST, FIRST + 1, ...; it prints how many were answered and refused.

    python -m fangkong.residents.tests.sign_in_process READY GO ADDRESS FIRST COUNT
"""

from __future__ import annotations

from datetime import date

from fangkong.residents.tests.processes import run_child


def warmed_up(address: str, first: str, count: str):
    from django.test import Client

    from fangkong.engine.id_numbers import make_id_number

    client = Client(SERVER_NAME="localhost", REMOTE_ADDR=address)
    assert client.get("/r/login/").status_code == 200
    start = int(first)
    ids = [make_id_number("220104", date(1985, 1, 1), n) for n in range(start, start + int(count))]
    return client, ids


def ask(prepared) -> dict:
    client, ids = prepared
    answers = [client.post("/r/login/", {"id_number": i}).content.decode() for i in ids]
    return {
        "sent": sum("验证码已发送" in a for a in answers),
        "refused": sum("操作过于频繁" in a for a in answers),
    }


if __name__ == "__main__":
    run_child(warmed_up, ask)
