"""A resident's appeal posted from a process of its own (test_appeals_at_once starts two): the
whole request, through the middleware and the view, on its own database connection.

    python -m fangkong.residents.tests.appeal_process READY GO PERSON_ID POLICY_ID
"""

from __future__ import annotations

from fangkong.residents.tests.processes import run_child

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def signed_in(person_id: str, policy_id: str):
    from django.conf import settings
    from django.test import Client

    from fangkong.residents.session import SESSION_KEY

    client = Client(SERVER_NAME="localhost")
    session = client.session
    session[SESSION_KEY] = int(person_id)
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    # The page first: the post after GO then goes straight to the appeal, every module loaded
    # (a first request spends a second or two loading them).
    assert client.get(f"/r/clear/{policy_id}/").status_code == 200
    return client, policy_id


def appeal(prepared) -> dict:
    from django.contrib.messages import get_messages
    from django.core.files.uploadedfile import SimpleUploadedFile

    client, policy_id = prepared
    response = client.post(
        f"/r/clear/{policy_id}/",
        {
            "description": "4月21日在小区采样点采样,没有扫码",
            "files": SimpleUploadedFile("凭证.png", PNG, content_type="image/png"),
        },
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    return {"status": response.status_code, "messages": said}


if __name__ == "__main__":
    run_child(signed_in, appeal)
