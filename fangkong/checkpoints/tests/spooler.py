"""A process that verifies scans on the hot path's spool, then waits to be killed:
`python -m fangkong.checkpoints.tests.spooler READY CHECKPOINT_ID TOKEN COUNT`.

Its flusher is off, so every scan is still only in its spool file when the test kills it; it
prints the scan ids it answered before touching READY."""

import json
import os
import sys
import time
import uuid
from pathlib import Path

if __name__ == "__main__":
    ready, checkpoint_id, token, count = sys.argv[1:5]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from fangkong.checkpoints.access import checkpoint_by_id
    from fangkong.checkpoints.actions import do_verify

    settings.GATE_LOG_FLUSHER = False
    checkpoint = checkpoint_by_id(int(checkpoint_id))
    answered = []
    for _ in range(int(count)):
        scan_id = str(uuid.uuid4())
        verdict = do_verify(checkpoint, token, timezone.now(), scan_id=scan_id, batched=True)
        answered.append({"scan_id": scan_id, "outcome": verdict.outcome})
    print(json.dumps(answered), flush=True)
    Path(ready).touch()
    while True:
        time.sleep(1)
