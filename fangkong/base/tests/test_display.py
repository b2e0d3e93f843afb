from datetime import UTC, date, datetime

import time_machine
from django.template import Context, Template


def render(text: str, **context) -> str:
    return Template(text).render(Context(context))


@time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), tick=False)
def test_a_time_of_another_year_shows_its_year():
    at = datetime(2022, 4, 22, 16, 0, tzinfo=UTC)  # 2022-04-23 00:00 in Beijing
    assert render("自 {{ at|when }} 起", at=at) == "自 2022年4月23日 00:00 起"


@time_machine.travel(datetime(2022, 4, 24, 12, 0, tzinfo=UTC), tick=False)
def test_a_time_of_this_year_shows_month_and_day_only():
    at = datetime(2022, 4, 22, 16, 5, tzinfo=UTC)
    assert render("{{ at|when }}", at=at) == "4月23日 00:05"
    assert render("{{ d|day }}", d=date(2022, 4, 23)) == "4月23日"
    assert render("{{ d|day }}", d=date(2021, 12, 31)) == "2021年12月31日"


def test_counts_have_thousands_separators():
    assert render("{{ n|num }}", n=9_012_345) == "9,012,345"
    assert render("{{ n|num }}", n=0) == "0"
    assert render("{{ n|num }}", n=93.3) == "93.3"
    assert render("{{ n|num }}", n="—") == "—"
