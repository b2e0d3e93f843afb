"""The shipped rule files (policies, checkpoint types, exit rules) explain themselves in Chinese
comments; the comments change no value. fixture_values.json is what each file parsed to before
the comments were written (the committed files of 6baedeb): a change of value here is a change
of policy, and is made on purpose, in both places."""

import json
import re
import tomllib
from itertools import takewhile
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2]
BEFORE = json.loads((Path(__file__).parent / "fixture_values.json").read_text(encoding="utf-8"))
FIXTURES = sorted(
    [*APPS.glob("policies/fixtures/*.toml"), *APPS.glob("checkpoints/fixtures/*.toml")]
    + [*APPS.glob("exits/fixtures/*.toml")]
)
HAN = re.compile(r"[\u4e00-\u9fff]")


def name(path: Path) -> str:
    return path.relative_to(APPS).as_posix()


def test_every_shipped_rule_file_is_accounted_for():
    assert sorted(name(p) for p in FIXTURES) == sorted(BEFORE)


@pytest.mark.parametrize("path", FIXTURES, ids=name)
def test_a_rule_file_parses_to_the_same_values_as_before_its_comments(path):
    assert tomllib.loads(path.read_text(encoding="utf-8")) == BEFORE[name(path)]


@pytest.mark.parametrize("path", FIXTURES, ids=name)
def test_a_rule_file_opens_with_what_it_means_for_residents_and_staff_in_chinese(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    opening = "\n".join(takewhile(lambda line: line.startswith("#"), lines))
    assert HAN.search(lines[0]) and lines[0].startswith("#")
    assert "居民" in opening and "工作人员" in opening
