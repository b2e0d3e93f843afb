"""A resident's appeal posted from a process of its own (test_appeals_at_once starts two): the
whole request, through the middleware and the view, on its own database connection. It signs
the resident in, opens the page, touches READY, waits for GO, posts, and prints the answer as
JSON on its last line.

    python -m fangkong.residents.tests.appeal_process PERSON_ID POLICY_ID READY GO
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def main(person_id: str, policy_id: str, ready: str, go: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.messages import get_messages
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from fangkong.residents.session import SESSION_KEY

    client = Client(SERVER_NAME="localhost")
    session = client.session
    session[SESSION_KEY] = int(person_id)
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    # The page first: the post that follows GO then goes straight to the appeal, with every
    # module loaded (a first request spends a second or two loading them).
    assert client.get(f"/r/clear/{policy_id}/").status_code == 200
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{go} never appeared")
        time.sleep(0.005)
    response = client.post(
        f"/r/clear/{policy_id}/",
        {
            "description": "4月21日在小区采样点采样,没有扫码",
            "files": SimpleUploadedFile("凭证.png", PNG, content_type="image/png"),
        },
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    print(json.dumps({"status": response.status_code, "messages": said}, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
