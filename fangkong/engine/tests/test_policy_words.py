"""Every problem a policy file can have, in the exact words the command centre reads (one case
per message), and every value of a good file read as written (docs/policies.md, "Fields")."""

from datetime import datetime, timedelta, timezone

import pytest

from fangkong.engine.policies import (
    Clear,
    PolicyError,
    Scope,
    Trigger,
    describe_clear,
    parse_policy,
)

LEVELS_PROBLEM = (
    "trigger.levels: 应为 prevention, control, lockdown, low, medium, high 中的一个或多个,不重复"
)

BJ = timezone(timedelta(hours=8))
BASE = {
    "id": "rule-1",
    "title": "标题",
    "colour": "yellow",
    "message": "告知",
    "effective_from": "2022-04-23T00:00:00+08:00",
    "trigger": {"type": "positive_result"},
}
NO_SAMPLING = {
    "type": "no_sampling",
    "from": "2022-04-20T00:00:00+08:00",
    "until": "2022-04-23T00:00:00+08:00",
}


def problems(changes: dict | None = None, *, drop=(), divisions=None) -> list[str]:
    data = {k: v for k, v in {**BASE, **(changes or {})}.items() if k not in drop}
    with pytest.raises(PolicyError) as caught:
        parse_policy(data, divisions=divisions)
    assert str(caught.value) == "; ".join(caught.value.problems)
    return caught.value.problems


CASES = [
    ({"id": "A"}, "id: 应为2–63位小写字母、数字或连字符"),
    ({"id": 12}, "id: 应为2–63位小写字母、数字或连字符"),
    ({"colour": "green"}, "colour: 应为 yellow 或 red"),
    ({"title": "  "}, "title: 必填"),
    ({"message": ""}, "message: 必填(向居民说明原因与解码方式)"),
    ({"title": "字" * 201}, "title: 不超过200字(现为201字)"),
    ({"message": ["a"]}, "message: 应为文本"),
    (
        {"effective_from": "soon"},
        "effective_from: 不是有效的时间 'soon',应如 2022-04-23T00:00:00+08:00",
    ),
    (
        {"effective_from": 5},
        'effective_from: 应为带UTC偏移的时间文本,如 "2022-04-23T00:00:00+08:00"',
    ),
    (
        {"effective_from": "2022-04-23T00:00"},
        "effective_from: 时间须带UTC偏移,如 2022-04-23T00:00:00+08:00",
    ),
    ({"effective_from": "1999-12-31T23:59:59+00:00"}, "effective_from: 时间应在2000年至2099年之间"),
    ({"effective_until": "2022-04-23T00:00:00+08:00"}, "effective_until: 应晚于 effective_from"),
    ({"restart": "yes"}, "restart: 应为true 或 false,而不是 'yes'"),
    ({"scope": "220100"}, 'scope: 应为表,如 [scope] include = ["220100"]'),
    ({"scope": {"exclude": "220184"}}, "scope.exclude: 应为列表,而不是 '220184'"),
    ({"scope": {"include": []}}, "scope.include: 至少一个区划代码"),
    ({"scope": {"include": ["2201"]}}, "scope.include: 区划代码 '2201' 应为6、9或12位数字"),
    ({"scope": {"exclude": [220184]}}, 'scope.exclude: 区划代码应写成文本,如 "220184"'),
    ({"scope": {"include": ["220100"] * 501}}, "scope.include: 至多500个区划代码"),
    ({"scope": {"inclde": ["220100"]}}, "scope.inclde: 未知字段,是否应为 include?"),
    (
        {"trigger": {"type": "fever"}},
        "trigger.type: 应为 no_sampling, positive_result, pooled_positive, designation, "
        "zone_level 之一",
    ),
    (
        {"trigger": {"type": "no_sampling", "from": "2022-04-20T00:00:00+08:00"}},
        "trigger: no_sampling 需要 from 与 until",
    ),
    (
        {"trigger": {**NO_SAMPLING, "until": NO_SAMPLING["from"]}},
        "trigger.until: 应晚于 trigger.from",
    ),
    (
        {"trigger": {"type": "designation", "kind": "neighbour"}},
        "trigger.kind: 应为 close_contact, secondary_contact, spacetime_companion 之一",
    ),
    (
        {"trigger": {"type": "zone_level", "levels": ["lockdown", "lockdown"]}},
        LEVELS_PROBLEM,
    ),
    (
        {"trigger": {"type": "zone_level", "levels": []}},
        LEVELS_PROBLEM,
    ),
    (
        {"trigger": {"type": "zone_level", "levels": ["red"]}},
        LEVELS_PROBLEM,
    ),
    ({"trigger": {"type": "positive_result", "kind": "x"}}, "trigger.kind: 未知字段(可用:type)"),
    ({"clear": "expiry"}, "clear: 应为 [[clear]] 表的列表"),
    ({"clear": ["expiry"]}, "clear[0]: 应为表([[clear]] 下写 type 等)"),
    (
        {"clear": [{"type": "vaccine"}]},
        "clear[0].type: 应为 negative_after, negatives_on_distinct_days, expiry 之一",
    ),
    ({"clear": [{"type": "expiry"}]}, "clear[0]: expiry 需要 hours 或 at 之一"),
    (
        {"clear": [{"type": "expiry", "hours": 1, "at": "2022-05-01T00:00:00+08:00"}]},
        "clear[0]: expiry 需要 hours 或 at 之一",
    ),
    ({"clear": [{"type": "expiry", "hours": 8785}]}, "clear[0].hours: 应为1–8784的整数(至多366天)"),
    ({"clear": [{"type": "negative_after", "after": ""}]}, 'clear[0].after: 应为时间或 "trigger"'),
    (
        {"clear": [{"type": "negatives_on_distinct_days", "days": 31}]},
        "clear[0].days: 应为1–30的整数",
    ),
    (
        {"clear": [{"type": "negatives_on_distinct_days", "days": 0}]},
        "clear[0].days: 应为1–30的整数",
    ),
]


@pytest.mark.parametrize(("changes", "words"), CASES, ids=[w.split(":")[0] for _, w in CASES])
def test_each_problem_is_named_in_its_own_words(changes, words):
    assert problems(changes) == [words]


def test_a_file_that_is_not_a_table_and_missing_fields_are_told():
    with pytest.raises(PolicyError) as caught:
        parse_policy(["id"])
    assert caught.value.problems == ["政策文件应为一个表(TOML)或对象(JSON)"]
    assert problems(drop=("effective_from", "trigger")) == [
        "effective_from: 必填",
        'trigger: 必填,应为表,如 [trigger] type = "no_sampling"',
    ]


def test_an_unknown_top_level_key_lists_the_keys_there_are():
    assert problems({"owner": "x"}) == [
        "owner: 未知字段(可用:id、title、colour、message、effective_from、effective_until、scope、"
        "trigger、clear、restart)"
    ]


def test_a_division_code_must_be_one_that_exists():
    assert problems(
        {"scope": {"include": ["220100"], "exclude": ["220199"]}}, divisions={"220100"}
    ) == ["scope.exclude: 没有区划代码为 220199 的现行区划"]


def test_every_value_of_a_good_file_is_read_as_written():
    policy = parse_policy(
        {
            **BASE,
            "colour": "red",
            "effective_until": "2022-05-01T00:00:00+08:00",
            "scope": {"include": ["220102", "220104"], "exclude": ["220102001"]},
            "trigger": NO_SAMPLING,
            "clear": [
                {"type": "negative_after", "after": "2022-04-23T00:00:00+08:00"},
                {"type": "negatives_on_distinct_days", "days": 2},
                {"type": "expiry", "hours": 72},
                {"type": "expiry", "at": "2022-04-30T00:00:00+08:00"},
            ],
            "restart": True,
        },
        version=3,
        published_at=datetime(2022, 4, 24, tzinfo=BJ),
    )
    at = lambda day: datetime(2022, 4, day, tzinfo=BJ)  # noqa: E731
    assert (policy.id, policy.version, policy.title, policy.colour) == ("rule-1", 3, "标题", "red")
    assert (policy.message, policy.restart) == ("告知", True)
    assert (policy.effective_from, policy.effective_until) == (
        at(23),
        datetime(2022, 5, 1, tzinfo=BJ),
    )
    assert policy.scope == Scope(("220102", "220104"), ("220102001",))
    assert policy.trigger == Trigger("no_sampling", at(20), at(23))
    assert policy.clears == (
        Clear("negative_after", after=at(23)),
        Clear("negatives_on_distinct_days", after_trigger=True, days=2),
        Clear("expiry", hours=72),
        Clear("expiry", at=at(30)),
    )
    assert policy.starts_at == at(24) and policy.first_version == 3
    assert [describe_clear(c) for c in policy.clears] == [
        "2022年04月23日00:00之后采样的一次核酸检测结果为阴性",
        "此后在2个不同日期采样的核酸检测结果均为阴性",
        "赋码72小时后自动解除",
        "2022年04月30日00:00自动解除",
    ]


def test_a_version_in_the_data_is_used_only_when_none_is_given():
    assert parse_policy({**BASE, "version": 4}, strict=False).version == 4
    assert parse_policy(BASE).version == 0


def test_scope_codes_stand_for_their_significant_digits():
    scope = Scope(("220000",), ("220100",))
    assert scope.covers("220203001001") and not scope.covers("220102001001")
    assert Scope(("220102",)).covers("220102001001") and not Scope(("220102",)).covers("220103")
    assert Scope(("220102001",)).covers("220102001002") and not Scope(("220102001",)).covers(
        "220102002001"
    )


def test_in_force_is_from_publication_and_start_until_the_end():
    policy = parse_policy(
        {**BASE, "effective_until": "2022-05-01T00:00:00+08:00"},
        published_at=datetime(2022, 4, 24, tzinfo=BJ),
    )
    assert not policy.in_force(datetime(2022, 4, 23, 23, tzinfo=BJ))
    assert policy.in_force(datetime(2022, 4, 24, tzinfo=BJ))
    assert policy.in_force(datetime(2022, 4, 30, 23, tzinfo=BJ))
    assert not policy.in_force(datetime(2022, 5, 1, tzinfo=BJ))
    draft = parse_policy(BASE)
    assert draft.starts_at == datetime(2022, 4, 23, tzinfo=BJ)
    assert not draft.in_force(datetime(2022, 4, 22, tzinfo=BJ))


def test_a_continuing_version_is_answered_by_clearances_of_its_decision_only():
    policy = parse_policy(
        BASE, version=3, continues_from=2, continues_since=datetime(2022, 4, 25, tzinfo=BJ)
    )
    assert [policy.answered_by(v) for v in (None, 1, 2, 3, 4)] == [True, False, True, True, False]
    assert policy.starts_at == datetime(2022, 4, 25, tzinfo=BJ)
