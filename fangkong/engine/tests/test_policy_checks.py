"""A policy file is refused, every problem named in Chinese with its key, before it can publish a
rule that means something other than what its author wrote (docs/policies.md, "Fields")."""

import tomllib
from pathlib import Path

import pytest

from fangkong.engine.policies import MAX_HOURS, PolicyError, parse_policy

SEED = (
    Path(__file__).resolve().parents[2] / "policies" / "fixtures" / "cc-2022-0420-untested.toml"
).read_text()
DIVISIONS = {"220100", "220102", "220182", "220183", "220184", "220122"}


def problems_of(text: str, divisions=DIVISIONS) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(tomllib.loads(text), divisions=divisions)
    return raised.value.problems


def with_clear(clear: str) -> str:
    head = SEED.split("[[clear]]")[0]
    return head + clear


def test_the_shipped_seed_rule_passes_every_check():
    policy = parse_policy(tomllib.loads(SEED), divisions=DIVISIONS)
    assert policy.id == "cc-2022-0420-untested"


def test_a_misspelt_key_is_refused_and_the_intended_key_is_named():
    (problem,) = problems_of('effective_untill = "2022-05-01T00:00:00+08:00"\n' + SEED)
    assert problem.startswith("effective_untill: 未知字段")
    assert "effective_until" in problem.split("未知字段")[1]


def test_clears_instead_of_clear_is_refused_rather_than_publishing_a_rule_nothing_clears():
    text = SEED.replace("[[clear]]", "[[clears]]")
    (problem,) = problems_of(text)
    assert problem.startswith("clears: 未知字段") and "clear" in problem


def test_a_key_in_the_wrong_place_of_a_clear_or_a_trigger_is_refused():
    text = with_clear('[[clear]]\ntype = "negatives_on_distinct_days"\nk = 2\n')
    assert problems_of(text) == ["clear[0].k: 未知字段(可用:type、after、days)"]
    text = SEED.replace('type = "no_sampling"', 'type = "no_sampling"\nfoo = 1')
    (problem,) = problems_of(text)
    assert problem.startswith("trigger.foo: 未知字段")


def test_a_fractional_or_textual_number_is_refused_not_rounded():
    for days in ("2.9", '"two"', "true"):
        text = with_clear(f'[[clear]]\ntype = "negatives_on_distinct_days"\ndays = {days}\n')
        (problem,) = problems_of(text)
        assert problem.startswith("clear[0].days: 应为整数")


@pytest.mark.parametrize("hours", ["1e9", "1e12", "1000000", "0", "-5", "1.5"])
def test_an_expiry_is_a_whole_number_of_hours_within_a_year(hours):
    text = with_clear(f'[[clear]]\ntype = "expiry"\nhours = {hours}\n')
    (problem,) = problems_of(text)
    assert problem.startswith("clear[0].hours: ")


def test_an_expiry_of_a_year_is_accepted():
    text = with_clear(f'[[clear]]\ntype = "expiry"\nhours = {MAX_HOURS}\n')
    assert parse_policy(tomllib.loads(text), divisions=DIVISIONS).clears[0].hours == MAX_HOURS


def test_a_well_formed_division_code_that_does_not_exist_is_refused():
    text = SEED.replace('include = ["220100"]', 'include = ["220100", "999999"]')
    assert problems_of(text) == ["scope.include: 没有区划代码为 999999 的现行区划"]


def test_a_division_code_written_as_a_number_is_refused():
    text = SEED.replace('include = ["220100"]', "include = [220100]")
    (problem,) = problems_of(text)
    assert problem.startswith("scope.include: 区划代码应写成文本")


def test_a_trigger_that_is_not_a_table_is_a_problem_not_a_crash():
    text = SEED.split("[trigger]")[0].replace(
        'effective_from = "', 'trigger = "x"\neffective_from = "'
    )
    problems = problems_of(text)
    assert "trigger: 应为表([trigger] 下写 type 等),而不是单个值" in problems


def test_values_of_the_wrong_type_are_listed_together():
    text = """
id = "typed"
title = 42
colour = "yellow"
message = "m"
effective_from = 2022-04-23
[trigger]
type = "positive_result"
[[clear]]
type = "negative_after"
after = 5
"""
    problems = problems_of(text)
    assert "title: 应为文本" in problems
    assert any(p.startswith("effective_from: ") for p in problems)
    assert any(p.startswith("clear[0].after: 应为带UTC偏移的时间文本") for p in problems)


def test_a_time_far_in_the_future_is_refused_before_it_can_overflow():
    text = SEED.replace("2022-04-23T00:00:00+08:00", "9999-12-31T00:00:00+08:00", 1)
    assert problems_of(text) == ["effective_from: 时间应在2000年至2099年之间"]


def test_a_stored_version_with_a_key_unknown_today_is_still_read():
    data = tomllib.loads(SEED) | {"note": "written before unknown keys were refused"}
    assert parse_policy(data, strict=False).id == "cc-2022-0420-untested"
