"""Checkpoints, devices and codes for the verification tests, and a WSGI call without a server."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass

from fangkong.codes.tokens import issue_code_token
from fangkong.engine.testing_state import derive_testing_state
from fangkong.people.models import Person
from fangkong.testing.queries import load_testing_facts


def token_for(id_number: str, now, colour: str = "green") -> str:
    person = Person.objects.get(id_number=id_number)
    facts = load_testing_facts(person.pk)
    state = derive_testing_state(facts.sampling_facts, facts.result_facts, now)
    return issue_code_token(person, colour, state, now).token


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(app, path: str, body: bytes | dict, *, key: str | None = None, host="localhost", **more):
    """One request through a WSGI application, as gunicorn would make it."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **more,
    }
    if key is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), dict(headers)

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Answer(started["status"], started["headers"], content)


def drain(processes) -> dict:
    """`fangkong gatelog drain --json`, as an operator runs it on the node."""
    done = subprocess.run(  # noqa: S603 — our own interpreter and command
        [sys.executable, "-m", "fangkong", "gatelog", "drain", "--json"],
        env=processes.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)
