"""Small, real test data built through ingestion itself."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from fangkong.engine.id_numbers import make_id_number
from fangkong.ingest.actions import do_ingest
from fangkong.places.models import Division
from fangkong.testing.models import TestingSite


@dataclass
class City:
    nanguan: list[str]  # ID numbers of residents of 南关区 220102
    chaoyang: list[str]  # of 朝阳区 220104
    site: TestingSite  # in 南关区
    chaoyang_site: TestingSite


def community(county: str) -> Division:
    return Division.objects.filter(level=5, county_code=county).order_by("code").first()


def resident_rows(county: str, region: str, count: int, start: int) -> list[dict]:
    home = community(county)
    return [
        {
            "id_number": make_id_number(region, date(1980, 1, 1), start + i),
            "name": f"居民{start + i}",
            "phone": f"139{start + i:08d}",
            "community_code": home.code,
        }
        for i in range(count)
    ]


REGISTERED = datetime(2022, 4, 1, tzinfo=timezone(timedelta(hours=8)))


def build_city() -> City:
    """Thirty residents (25 in 南关区, 5 in 朝阳区) and a testing site in each district."""
    nanguan = resident_rows("220102", "220102", 25, 1)
    chaoyang = resident_rows("220104", "220104", 5, 100)
    # Registered before the April 2022 rounds the tests replay.
    report = do_ingest("residents", rows=nanguan + chaoyang, now=REGISTERED)
    assert report.inserted == 30, report.errors
    site = TestingSite.objects.create(
        code="S-NG-1", name="南关区第1采样点", community=community("220102"), county_code="220102"
    )
    chaoyang_site = TestingSite.objects.create(
        code="S-CY-1", name="朝阳区第1采样点", community=community("220104"), county_code="220104"
    )
    return City(
        [r["id_number"] for r in nanguan], [r["id_number"] for r in chaoyang], site, chaoyang_site
    )


def write_csv(path, header: list[str], rows: list[list[str]], encoding="utf-8") -> str:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(path)


BJ = timezone(timedelta(hours=8))
POLICY_FIXTURES = Path(__file__).resolve().parents[2] / "policies" / "fixtures"


def policy_source(name: str) -> str:
    return (POLICY_FIXTURES / f"{name}.toml").read_text()


def sample(ids, tube, pool, when, site="S-NG-1"):
    """These people sampled into one tube at `when` (recorded five minutes later)."""
    report = do_ingest(
        "samplings",
        rows=[
            {
                "id_number": i,
                "tube": tube,
                "pool_size": pool,
                "site_code": site,
                "sampled_at": when.isoformat(),
            }
            for i in ids
        ],
        now=when + timedelta(minutes=5),
    )
    assert report.inserted == len(ids), report.errors
    return report


def report_result(tube, outcome, when):
    return do_ingest(
        "results",
        rows=[
            {
                "tube": tube,
                "result": outcome,
                "lab": "长春金域医学检验所",
                "reported_at": when.isoformat(),
            }
        ],
        now=when + timedelta(minutes=1),
    )
