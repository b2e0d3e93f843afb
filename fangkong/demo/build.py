"""`fangkong demo`: build the synthetic 长春市 into the database, through ingestion.

Divisions, testing sites and the demo staff accounts are created directly. Everything else —
residents, samplings, lab results, designations, presence records — is written to CSV files
in a temporary folder and loaded with `do_ingest`, exactly as files from the field would be,
so the demo also exercises the ingestion path. Running it again with the same size and seed
loads nothing new: every row comes back as a duplicate.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from fangkong.demo.accounts import (
    create_staff,
    print_logins,  # noqa: F401 (fangkong.cli imports it from here)
    staff_accounts,
)
from fangkong.demo.city import BLOCK_ROWS, Block, city_blocks
from fangkong.demo.geography import Geography, load_geography
from fangkong.demo.people import REGISTERED_AT, companies
from fangkong.demo.rounds import ROUND_1

FILE_ROWS = BLOCK_ROWS  # rows per CSV file: ingestion holds one checked file in memory
LOAD_ORDER = ("residents", "samplings", "results", "designations", "presence")


# -- what is created directly -------------------------------------------------------------------


def create_sites(geo: Geography) -> int:
    from fangkong.testing.models import TestingSite

    TestingSite.objects.bulk_create(
        [
            TestingSite(code=code, name=name, community_id=community, county_code=county)
            for code, name, community, county in zip(
                geo.site_codes, geo.site_names, geo.site_community, geo.site_county, strict=True
            )
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return geo.site_count


# -- files and ingestion ------------------------------------------------------------------------


def write_block(
    block: Block, folder: Path, file_rows: int = FILE_ROWS, kinds: tuple[str, ...] = LOAD_ORDER
) -> list[tuple[str, Path]]:
    """The block's tables of `kinds` as CSV files (UTF-8, Chinese headers), in load order."""
    files = []
    options = pa_csv.WriteOptions(quoting_style="needed")
    for kind in (k for k in LOAD_ORDER if k in kinds):
        table: pa.Table = block.tables[kind]
        for part, offset in enumerate(range(0, max(table.num_rows, 1), file_rows)):
            path = folder / f"{block.number:02d}-{kind}-{part + 1}.csv"
            pa_csv.write_csv(table.slice(offset, file_rows), path, options)
            files.append((kind, path))
    return files


@dataclass
class Loaded:
    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    examples: list[dict] = field(default_factory=list)  # the first rejected rows

    def as_dict(self) -> dict:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def ingest_files(
    files: list[tuple[str, Path]],
    *,
    now: datetime | None,
    registered_at: datetime | None = None,
    loaded: dict[str, Loaded],
    progress: Callable[[int], None] | None = None,
    done: int = 0,
) -> int:
    """Load `files` in order through `do_ingest` as of `now`, the residents as of
    `registered_at` (default: `now`); adds to `loaded`; returns rows done."""
    from fangkong.ingest.actions import do_ingest

    for kind, path in files:
        offset = done

        def step(rows: int, offset: int = offset) -> None:
            if progress:
                progress(offset + rows)

        started = time.perf_counter()
        at = registered_at if kind == "residents" and registered_at else now
        report = do_ingest(kind, path=path, source="demo", now=at, progress=step)
        if report.failure:
            raise RuntimeError(f"演示数据 {path.name} 导入失败:{report.failure}")
        total = loaded.setdefault(kind, Loaded())
        total.seconds += time.perf_counter() - started
        for name in ("rows", "inserted", "duplicates", "flagged", "rejected"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.rejected and not total.examples:
            total.examples = [{"file": path.name, **e} for e in report.errors[:5]]
        done += report.rows
        step(report.rows, offset)
    return done


# -- the command --------------------------------------------------------------------------------


def build_demo(
    residents: int = 20_000,
    seed: int = 20220421,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    workdir: Path | str | None = None,
    kinds: tuple[str, ...] = LOAD_ORDER,
) -> dict:
    """Build the demo city into the database and return a summary (with a Chinese "text").

    `now` is the moment the data is loaded: facts after it (a result reported later, a
    designation not made yet) are left out, so `now=2022-04-21 16:37+08:00` gives the city as
    the press conference saw it. Default: the current time, i.e. everything. The residents are
    registered before the round (`REGISTERED_AT`, or `now` if earlier), so that the codes and
    counts of any moment of the round count them. Ingestion refuses
    any time more than a day after `now`, a designation's planned end included, so a designation
    still running at `now` is loaded without an end; loading the same city again with a `now`
    past that end then flags it for review instead of adding it silently. `kinds` limits what
    is loaded (`("residents",)`: the register alone, as the April replay starts).
    """
    from django.utils import timezone

    from fangkong.places.loading import load_divisions

    started = time.perf_counter()
    geo = load_geography()
    if not _divisions_loaded(geo):
        load_divisions()
    create_sites(geo)
    employers = companies(seed, residents)
    staff = create_staff(staff_accounts(employers[0]), geo.county_codes)
    until = None if now is None else int(now.timestamp())
    now = now or timezone.now()
    registered_at = min(now, REGISTERED_AT)

    generated: dict[str, int] = {}
    loaded: dict[str, Loaded] = {}
    generate_seconds = 0.0
    unscanned: list[str] = []  # their employers apply for them (fangkong.demo.clearances)
    done = 0
    folder = Path(tempfile.mkdtemp(prefix="fangkong-demo-", dir=workdir))
    try:
        blocks = city_blocks(residents, seed, until=until, geo=geo)
        while True:
            tick = time.perf_counter()
            block = next(blocks, None)
            if block is None:
                break
            files = write_block(block, folder, kinds=kinds)
            generate_seconds += time.perf_counter() - tick
            for key, value in block.stats.items():
                generated[key] = generated.get(key, 0) + int(value)
            unscanned.extend(block.unscanned.to_pylist())
            block = None  # the files are written: free the tables before loading them
            done = ingest_files(
                files,
                now=now,
                registered_at=registered_at,
                loaded=loaded,
                progress=progress,
                done=done,
            )
            for _, path in files:
                path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    summary = {
        "residents": residents,
        "seed": seed,
        "now": now.isoformat(),
        "registered_at": registered_at.isoformat(),
        "sites": geo.site_count,
        "staff": staff,
        "generated": generated,  # the whole scenario, before leaving out facts after `now`
        "unscanned_ids": unscanned,
        "loaded": {kind: value.as_dict() for kind, value in loaded.items()},
        "rejected": sum(v.rejected for v in loaded.values()),
        "seconds": {
            "generate": round(generate_seconds, 3),
            "ingest": round(sum(v.seconds for v in loaded.values()), 3),
            "total": round(time.perf_counter() - started, 3),
        },
    }
    summary["text"] = _text(summary, geo)
    return summary


def _divisions_loaded(geo: Geography) -> bool:
    """Whether every current street and community is already in the database (loading them
    again is harmless but takes a while)."""
    from fangkong.places.models import Division

    return Division.objects.filter(level__in=(4, 5), is_current=True).count() == len(
        geo.street_codes
    ) + len(geo.community_codes)


def _n(value: int) -> str:
    return f"{value:,}"


def _text(summary: dict, geo: Geography) -> str:
    g = summary["generated"]
    loaded = summary["loaded"]
    inserted = sum(v["inserted"] for v in loaded.values())
    duplicates = sum(v["duplicates"] for v in loaded.values())
    flagged = sum(v["flagged"] for v in loaded.values())
    days = "、".join(f"{d.day}日" for d in ROUND_1.days)
    return (
        f"演示城市(合成数据,种子{summary['seed']}):居民{_n(g.get('residents', 0))}人,"
        f"分布于{len(geo.county_codes)}个区县(开发区)的{_n(len(geo.community_codes))}个社区/村,"
        f"按七普人口比例;采样点{_n(summary['sites'])}个。\n"
        f"4月{days}全员核酸:扫码采样{_n(g.get('round1_people', 0))}人,"
        f"未扫码采样{_n(g.get('unscanned', 0))}人(无采样记录,待单位批量解码),"
        f"未参检{_n(g.get('not_sampled', 0))}人;4月24日复检{_n(g.get('round2_people', 0))}人。"
        f"共采样{_n(g.get('samplings', 0))}人次、试管{_n(g.get('tubes', 0))}支"
        f"(单管{_n(g.get('tubes_1', 0))}、10混1 {_n(g.get('tubes_10', 0))}、"
        f"20混1 {_n(g.get('tubes_20', 0))});"
        f"混管阳性{_n(g.get('positive_pools', 0))}管,单管复核{_n(g.get('retests', 0))}人,"
        f"阳性{_n(g.get('positives', 0))}人;无效管{_n(g.get('invalid_tubes', 0))}管已重采。\n"
        f"密接{_n(g.get('close_contacts', 0))}人,次密接{_n(g.get('secondary_contacts', 0))}人,"
        f"跨区在场记录{_n(g.get('presence', 0))}条。\n"
        f"导入:新增{_n(inserted)}行,重复{_n(duplicates)}行,待核{_n(flagged)}行,"
        f"拒绝{_n(summary['rejected'])}行;用时{summary['seconds']['total']:.1f}秒。"
    )
