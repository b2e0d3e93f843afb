"""The sign-in limits hold when one client's requests are served by several processes at the
same moment (several app nodes on one database): the count lives in the database, not in a
process (issue 11, item 6)."""

import pytest

from fangkong.accounts.models import Throttle
from fangkong.audit.models import AuditEntry
from fangkong.places.loading import load_divisions
from fangkong.residents.tests.processes import Processes

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_processes_serving_one_client_let_ten_requests_through_in_all(tmp_path):
    load_divisions()  # a transactional test starts from an empty database
    nodes = Processes(tmp_path)
    try:
        for node in range(4):
            nodes.start("fangkong.residents.tests.sign_in_process", "203.0.113.7", 100 * node, 5)
        nodes.ready()
        nodes.go()
        answers = nodes.answers()
    finally:
        nodes.stop()
    assert sum(a["sent"] for a in answers) == 10
    assert sum(a["refused"] for a in answers) == 10
    assert Throttle.objects.filter(scope="resident-client").count() == 1
    assert AuditEntry.objects.filter(action="signin.lockout").count() == 1
