"""The places of the demo: the current divisions of 长春市 (fangkong.places' shipped files) as
arrays, and the testing sites the demo opens in every street."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SITES_PER_STREET = 3

# Development zones (220171–220174) are statistical codes, never printed in ID numbers: their
# residents' numbers carry the code of the district the zone was carved out of, as issued by
# that district's public-security bureau.
ID_REGION_OF_ZONE = {
    "220171": "220105",  # 长春经济技术开发区: east of the city, mostly former 二道区 land
    "220172": "220102",  # 长春净月高新技术产业开发区: south-east, former 南关区 land
    "220173": "220104",  # 长春高新技术产业开发区: south-west, former 朝阳区 land
    "220174": "220106",  # 长春汽车经济技术开发区: west, former 绿园区 land
}
# The press conference exempted these four from the yellow-code rule; they test a bit less.
OUTER_COUNTIES = frozenset({"220184", "220182", "220122", "220183"})


@dataclass
class Geography:
    """The current divisions of 长春市 and the testing sites of the demo, as arrays."""

    county_codes: list[str]
    county_names: list[str]
    county_population: np.ndarray
    county_id_region: np.ndarray  # the 6-digit code ID numbers of the county's people carry
    county_outer: np.ndarray
    county_communities: list[np.ndarray]
    community_codes: list[str]
    community_county: np.ndarray
    community_street: np.ndarray
    community_site: np.ndarray  # the site that serves each community
    street_codes: list[str]
    street_names: list[str]
    street_county: np.ndarray
    street_first_site: np.ndarray
    site_codes: list[str]
    site_names: list[str]
    site_community: list[str]
    site_county: list[str]
    # per county: (code, first issue year, last issue year) of its historic codes
    historic: list[list[tuple[int, int, int]]] = field(default_factory=list)

    @property
    def site_count(self) -> int:
        return len(self.site_codes)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def load_geography() -> Geography:
    from fangkong.places.loading import CENSUS_CSV, DIVISIONS_CSV, HISTORIC_CSV

    rows = _csv_rows(DIVISIONS_CSV)
    census = {r["code"]: int(r["population"]) for r in _csv_rows(CENSUS_CSV)}
    counties = sorted(
        (r for r in rows if r["level"] == "3" and r["parent_code"] == "220100"),
        key=lambda r: r["code"],
    )
    county_index = {r["code"]: i for i, r in enumerate(counties)}
    streets = sorted((r for r in rows if r["level"] == "4"), key=lambda r: r["code"])
    street_index = {r["code"]: i for i, r in enumerate(streets)}
    communities = sorted((r for r in rows if r["level"] == "5"), key=lambda r: r["code"])
    community_county = np.array([county_index[r["code"][:6]] for r in communities], np.int32)
    community_street = np.array([street_index[r["parent_code"]] for r in communities], np.int32)

    site_codes, site_names, site_community, site_county = [], [], [], []
    street_first_site = np.zeros(len(streets), np.int32)
    community_site = np.zeros(len(communities), np.int32)
    by_street: dict[int, list[int]] = {}
    for j, s in enumerate(community_street.tolist()):
        by_street.setdefault(s, []).append(j)
    for s, street in enumerate(streets):
        members = by_street.get(s, [])
        street_first_site[s] = len(site_codes)
        if not members:
            continue
        for k in range(SITES_PER_STREET):
            site_codes.append(f"S{street['code']}-{k + 1:02d}")
            site_names.append(f"{street['name']}第{k + 1}采样点")
            site_community.append(communities[members[k % len(members)]]["code"])
            site_county.append(street["code"][:6])
        for rank, j in enumerate(members):
            community_site[j] = street_first_site[s] + rank % SITES_PER_STREET

    county_codes = [r["code"] for r in counties]
    historic: list[list[tuple[int, int, int]]] = [[] for _ in counties]
    for r in _csv_rows(HISTORIC_CSV):
        successor = r["successor_code"]
        if successor in county_index and r["valid_until"]:
            historic[county_index[successor]].append(
                (int(r["code"]), int(r["valid_from"] or 0), int(r["valid_until"]))
            )
    return Geography(
        county_codes=county_codes,
        county_names=[r["name"] for r in counties],
        county_population=np.array([census[c] for c in county_codes], np.float64),
        county_id_region=np.array([int(ID_REGION_OF_ZONE.get(c, c)) for c in county_codes]),
        county_outer=np.array([c in OUTER_COUNTIES for c in county_codes]),
        county_communities=[np.flatnonzero(community_county == i) for i in range(len(counties))],
        community_codes=[r["code"] for r in communities],
        community_county=community_county,
        community_street=community_street,
        community_site=community_site,
        street_codes=[r["code"] for r in streets],
        street_names=[r["name"] for r in streets],
        street_county=np.array([county_index[r["code"][:6]] for r in streets], np.int32),
        street_first_site=street_first_site,
        site_codes=site_codes,
        site_names=site_names,
        site_community=site_community,
        site_county=site_county,
        historic=historic,
    )
