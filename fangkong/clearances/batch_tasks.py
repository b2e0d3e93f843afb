"""An employer's list checked by the worker: 1 000 rows are some 20 s of checks, too long for a
web request. The page refuses at once what it can (clearances.batches.check_upload: the
sender, the policy, the files, the document's content, a list sent before, an unreadable list)
and hands the rest to a background task (fangkong.clock.background), whose page shows
正在处理… until the batch exists."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks import task

from fangkong.clearances.actions import ClearanceError
from fangkong.clearances.batches import BatchError, check_upload, do_submit_batch, read_list
from fangkong.clearances.evidence import EvidenceError
from fangkong.clearances.models import EmployerBatch
from fangkong.clock import background
from fangkong.clock.models import BackgroundTask

KIND = BackgroundTask.Kind.EMPLOYER_BATCH


def do_queue_batch(
    upload_file, document_file, policy_id: str, user, now: datetime, note: str = ""
) -> EmployerBatch | BackgroundTask:
    """The batch itself when this list was sent before (`repeated` set), else the queued task
    that will check its rows. Raises what check_upload and read_list raise."""
    upload = check_upload(upload_file, document_file, policy_id, user, now)
    if upload.existing is not None:
        return upload.existing
    list_name = upload_file.name or "名单"
    read_list(upload.data, list_name)  # an unreadable list, a missing column: said at once
    params = {
        "policy": upload.policy.id,
        "note": note,
        "list_name": list_name,
        "list_bytes": len(upload.data),
        "document_name": document_file.name or "证明材料",
    }
    return background.start(
        KIND,
        check_employer_list,
        user=user,
        now=now,
        params=params,
        payload=upload.data + upload.document,
    )


@task()
def check_employer_list(job_id: int) -> dict | None:
    return background.run(job_id, _submit)


def _submit(job: BackgroundTask) -> dict:
    """The list as uploaded, checked as of its upload."""
    params, payload = job.params, bytes(job.payload)
    rows = SimpleUploadedFile(params["list_name"], payload[: params["list_bytes"]])
    document = SimpleUploadedFile(params["document_name"], payload[params["list_bytes"] :])
    try:
        batch = do_submit_batch(
            rows, document, params["policy"], job.requested_by, job.requested_at, params["note"]
        )
    except (BatchError, EvidenceError, ClearanceError, PermissionDenied) as error:
        raise background.Refused(str(error)) from error
    return {
        "batch": batch.pk,
        "repeated": batch.repeated,
        "rows": batch.rows_total,
        "accepted": batch.rows_accepted,
        "rejected": batch.rows_rejected,
    }
