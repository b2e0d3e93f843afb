"""The audit log in Chinese: every action the code records has a label, and an entry's details
read as labelled values, never as Python's `None` or `True` (issue 10, item 7)."""

import ast
import importlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

import fangkong
from fangkong.audit.actions import record
from fangkong.audit.labels import ACTION_LABELS, readable_detail
from fangkong.clock.tests.worker import run_due_tasks
from fangkong.engine import clearances as machine
from fangkong.enterprises.models import ResumptionStep
from fangkong.exits.gate import DIRECTIONS
from fangkong.tickets import rules as ticket_rules

PACKAGE = Path(fangkong.__file__).parent
BJ = timezone(timedelta(hours=8))
# Actions written as f-strings: their fixed start, and every value the rest can take.
FORMATTED = {
    "clearance.": set(machine.TRANSITIONS),
    "exit_pass.": set(DIRECTIONS),
    "enterprise.": set(ResumptionStep.Kind.values),
    "tickets.": set(ticket_rules.ACTIONS),
}


class UnreadableAction(AssertionError):
    pass


def _values(node, function, module: str, where: str) -> set[str]:
    """Every action text an expression can evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, function, module, where) | _values(
            node.orelse, function, module, where
        )
    if isinstance(node, ast.JoinedStr):
        start = node.values[0]
        prefix = start.value if isinstance(start, ast.Constant) else ""
        if prefix not in FORMATTED:
            raise UnreadableAction(f"{where}: add the values of f-string action {prefix!r}…")
        return {prefix + value for value in FORMATTED[prefix]}
    if isinstance(node, ast.Name):
        assigned = [
            statement.value
            for statement in (ast.walk(function) if function is not None else ())
            if isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in statement.targets)
        ]
        if assigned:
            return set().union(*(_values(v, function, module, where) for v in assigned))
        value = getattr(importlib.import_module(module), node.id, None)
        if isinstance(value, str):
            return {value}
    raise UnreadableAction(f"{where}: cannot tell which action {ast.unparse(node)} records")


def _calls(tree):
    """(record call, the function it is in) throughout a module."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    seen = set()
    for function in functions:
        for node in ast.walk(function):
            if _is_record(node) and id(node) not in seen:
                seen.add(id(node))
                yield node, function
    for node in ast.walk(tree):
        if _is_record(node) and id(node) not in seen:
            yield node, None


def _is_record(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    return name == "record"


def recorded_actions() -> dict[str, str]:
    """Each action any module of fangkong records, with one place that records it."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        if "tests" in relative.parts:
            continue
        module = ".".join(relative.with_suffix("").parts)
        for call, function in _calls(ast.parse(path.read_text())):
            where = f"{relative}:{call.lineno}"
            action = call.args[1] if len(call.args) > 1 else None
            action = next((k.value for k in call.keywords if k.arg == "action"), action)
            if action is None:
                raise UnreadableAction(f"{where}: a record() call without an action")
            for value in _values(action, function, module, where):
                found.setdefault(value, where)
    return found


def test_the_code_is_read_for_the_actions_it_records():
    actions = recorded_actions()
    assert {"person.view", "clearance.approve", "exit_pass.return", "code.change"} <= set(actions)
    assert "antigen.report" in actions


def test_every_action_the_code_records_has_a_chinese_label():
    missing = {a: where for a, where in recorded_actions().items() if a not in ACTION_LABELS}
    assert missing == {}


def test_details_read_as_labelled_values_without_none():
    detail = {
        "community": None,
        "accept": True,
        "rows": 1200,
        "person": 859,
        "via": "admin",
        "transitions": {"green->yellow": 12, "yellow->green": 3},
        "start_at": "2022-04-23 00:00:00+08:00",
        "channel": "appeal",
        "note": "",
    }
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=BJ)):
        shown = readable_detail(detail, {"channel": {"appeal": "线上申诉"}})
    assert shown == [
        ("采纳新值", "是"),
        ("行数", "1,200"),
        ("居民", "#859"),
        ("途径", "管理后台"),
        ("颜色变化", "绿码→黄码 12,黄码→绿码 3"),
        ("开始时间", "2022年4月23日 00:00"),
        ("渠道", "线上申诉"),
    ]


@pytest.mark.django_db
def test_the_log_page_shows_actions_and_details_in_chinese(client, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    record(reviewer, "clearance.approve", "clearance", 15, {"reason": "单位证明属实"})
    record(reviewer, "evidence.view", "evidence", 3, {"clearance": 15, "batch": None})
    client.force_login(make_staff("auditor"))
    html = client.get(reverse("audit:log")).content.decode()
    assert "通过解码申请" in html and "查看证明材料" in html
    assert "理由:单位证明属实" in html and "解码申请:#15" in html
    assert "None" not in html.split('id="entries"', 1)[1]
    assert '<option value="clearance.approve">通过解码申请(clearance.approve)</option>' in html


@pytest.mark.django_db
def test_the_log_counts_its_entries_with_thousands_separators(client, make_staff):
    for i in range(1_001):
        record(None, "person.view", "person", i, {})
    client.force_login(make_staff("auditor"))
    started = client.post(reverse("audit:verify"))
    run_due_tasks()  # the check, on the worker; it audits itself once done (entry 1,002)
    html = client.get(started["Location"]).content.decode()
    assert "共 1,002 条" in html and "全部 1,001 条记录" in html
