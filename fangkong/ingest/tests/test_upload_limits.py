"""Each upload route has its own ceiling, refused from the declared length before a byte of the
body is read: a resident's evidence, an employer's list, a staff file of facts, JSON rows."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.clearances.batches import MAX_BYTES
from fangkong.ingest.limits import FORM_OVERHEAD, INGEST_API_BYTES, INGEST_FILE_BYTES
from fangkong.ingest.models import Batch

pytestmark = pytest.mark.django_db
MB = 1 << 20


class Body:
    """What a client would send: `size` bytes of one file field named `name` in a multipart
    form, produced only as they are read."""

    def __init__(self, size: int, name: str = "file.pdf"):
        self.head = (
            f'--b\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = b"\r\n--b--\r\n"
        self.size, self.read_bytes = size, 0

    def _byte(self, at: int) -> bytes:
        if at < len(self.head):
            return self.head[at : at + 1]
        if at >= self.size - len(self.tail):
            return self.tail[at - self.size + len(self.tail) : at - self.size + len(self.tail) + 1]
        return b"x"

    def read(self, n: int | None = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        start, self.read_bytes = self.read_bytes, self.read_bytes + n
        middle = range(len(self.head), self.size - len(self.tail))
        if start in middle and start + n <= middle.stop:
            return b"x" * n  # the bulk of the file, without a byte at a time
        return b"".join(self._byte(at) for at in range(start, start + n))

    def readline(self, n: int | None = -1) -> bytes:
        return self.read(1024 if n is None or n < 0 else min(n, 1024))


def post(client: Client, url: str, size: int, content_type="multipart/form-data; boundary=b"):
    body = Body(size)
    response = client.generic(
        "POST",
        url,
        b"",
        content_type=content_type,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(size), "CONTENT_TYPE": content_type},
    )
    return response, body


def test_a_resident_upload_over_the_limit_is_refused_without_being_read(db, client):
    # Five files of 5 MB at most; the 180 MB that used to be read whole is never touched.
    response, body = post(client, reverse("residents:clear", args=["cc-any"]), 180 * MB)
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert "上传的内容超过" in response.content.decode()
    limit = settings.EVIDENCE_FILES_PER_REQUEST * settings.EVIDENCE_MAX_BYTES + FORM_OVERHEAD
    url = reverse("residents:appeal_step", args=["cc-any", 1])
    assert post(client, url, limit + 1)[0].status_code == 413
    assert post(client, url, limit)[0].status_code != 413


def test_an_employer_list_over_the_limit_is_refused_without_being_read(db, make_staff):
    client = Client()
    client.force_login(make_staff("employer"))
    limit = MAX_BYTES + settings.EVIDENCE_MAX_BYTES + FORM_OVERHEAD
    response, body = post(client, reverse("clearances:batch_new"), limit + 1)
    assert (response.status_code, body.read_bytes) == (413, 0)


def test_a_staff_file_may_be_large_but_not_unbounded(db, make_staff):
    client = Client()
    client.force_login(make_staff("lab"))
    url = reverse("ingest:upload", args=["results"])
    # More than any other route takes is still read (and this one refused for its type)...
    response, body = post(client, url, 40 * MB)
    assert response.status_code == 200 and body.read_bytes == 40 * MB
    assert "只接受 .csv 或 .xlsx 文件" in response.content.decode()
    # ...but the 2 GB the page used to take is refused unread.
    response, body = post(client, url, 2 << 30)
    assert (response.status_code, body.read_bytes) == (413, 0)
    assert INGEST_FILE_BYTES < 2 << 30
    assert not Batch.objects.exists()


def test_the_staff_file_limit_is_a_setting(db, make_staff, settings, tmp_path):
    settings.FANGKONG_INGEST_MAX_UPLOAD_BYTES = 100
    client = Client()
    client.force_login(make_staff("lab"))
    path = tmp_path / "results.csv"
    path.write_text("tube,result,lab,reported_at\n" + "T-1,阴性,金域,2022-04-20T20:00+08:00\n" * 9)
    with open(path, "rb") as upload:
        response = client.post(reverse("ingest:upload", args=["results"]), {"file": upload})
    assert response.status_code == 200
    assert "文件超过100" in response.content.decode()
    assert not Batch.objects.exists()


def test_json_rows_over_the_limit_are_refused_with_json(db, make_staff):
    client = Client()
    client.force_login(make_staff("lab"))
    response, body = post(client, "/api/ingest/results", INGEST_API_BYTES + 1, "application/json")
    assert (response.status_code, body.read_bytes) == (413, 0)
    assert "上传的内容超过" in response.json()["detail"]


def test_the_size_check_comes_first_and_the_csrf_check_still_follows(db, make_staff, tmp_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("lab"))
    path = tmp_path / "results.csv"
    path.write_text("tube,result,lab,reported_at\n")
    with open(path, "rb") as upload:
        response = client.post(reverse("ingest:upload", args=["results"]), {"file": upload})
    assert response.status_code == 403
    assert not Batch.objects.exists()
