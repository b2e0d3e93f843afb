"""A synthetic 长春市 in April 2022: residents, two rounds of mass testing, retests, contacts.

Everything is generated with numpy, column at a time, and handed out as Arrow tables whose
columns are the text a real file would carry (Chinese headers, times with "+08:00"). Nothing
here touches the database: `fangkong.demo.build` writes the tables to CSV files and loads them
through ingestion.

The parts: `geography` (the divisions and the testing sites), `people` (residents, ID numbers,
names, employers), `rounds` (samplings in pooled tubes, results, retests), `contacts` (close and
secondary contacts, presence), `columns` (text columns from digits); `names` holds the word
lists. This module puts them together.

The population is made in blocks of at most `BLOCK_ROWS` people. A block is self-contained
(its samplings, tubes, results, contacts and presence records only name its own people), so
memory stays bounded whatever the size of the city, and blocks can be loaded one after another.
Identifiers stay unique across blocks: ID-number sequence numbers are split into one range per
block, phone numbers are a permutation of the person's global number, and tube barcodes carry
the block number.

The scenario follows the press conference of 2022-04-21 (/work/shared/seed): everyone in the
city was to be tested between 20 and 22 April; a small group was sampled without their code
being scanned (their employers clear them in a batch later); a second round followed on
24 April for part of the city.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from fangkong.demo.contacts import contacts, designations_table, first_each, presence_table
from fangkong.demo.geography import Geography, load_geography
from fangkong.demo.people import allocate, companies, make_people, residents_table
from fangkong.demo.rounds import ROUND_1, ROUND_2, Facts, run_round, testing_tables

BLOCK_ROWS = 1_000_000
MAX_RESIDENTS = 50_000_000  # phone numbers are a permutation of 10^8; ID sequences run out
SCANNED_SHARE = 0.93
SCANNED_SHARE_OUTER = 0.88
ROUND2_SHARE = 0.60


@dataclass
class Block:
    number: int
    tables: dict[str, pa.Table]  # kind -> rows, in load order
    stats: dict[str, int]
    # ID numbers of those sampled without scanning: in no file, for an employer to clear
    unscanned: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))


def make_block(
    geo: Geography,
    employers: list[str],
    *,
    seed: int,
    number: int,
    blocks: int,
    size: int,
    start: int,
    until: int | None = None,
) -> Block:
    """Block `number` of `blocks`: `size` people numbered from `start`, and their facts up to
    `until` (UTC epoch seconds; None: everything)."""
    rng = np.random.default_rng([seed, number, blocks, size])
    people = make_people(rng, geo, size, start, number, blocks, len(employers))
    n = size
    stats: dict[str, int] = {
        "residents": n,
        "employed": int((people.employer >= 0).sum()),
        "historic_id_codes": int(people.historic.sum()),
        "unscanned": int(people.unscanned.sum()),
    }
    residents = residents_table(people, employers, geo)

    facts = Facts()
    outer = geo.county_outer[people.county]
    share = np.where(outer, SCANNED_SHARE_OUTER, SCANNED_SHARE)
    first_round = np.flatnonzero(~people.unscanned & (rng.random(n) < share))
    stats["round1_people"] = len(first_round)
    stats["not_sampled"] = n - len(first_round) - stats["unscanned"]
    round1: dict[str, int] = {}
    pos1, when1 = run_round(rng, ROUND_1, geo, people, first_round, facts, round1)
    positive = np.zeros(n, bool)
    positive[pos1] = True
    second_round = np.flatnonzero(~positive & (rng.random(n) < ROUND2_SHARE))
    stats["round2_people"] = len(second_round)
    round2: dict[str, int] = {}
    pos2, when2 = run_round(rng, ROUND_2, geo, people, second_round, facts, round2)
    for key in set(round1) | set(round2):
        stats[key] = round1.get(key, 0) + round2.get(key, 0)
    positives, found = first_each(np.r_[pos1, pos2], np.r_[when1, when2])
    stats["positives"] = len(positives)

    close, close_start, secondary, secondary_start = contacts(rng, people, positives, found)
    stats["close_contacts"], stats["secondary_contacts"] = len(close), len(secondary)

    samplings, results = testing_tables(facts, people, geo, number, until)
    designations = designations_table(
        people, geo, (close, close_start), (secondary, secondary_start), until
    )
    presence = presence_table(rng, people, geo, until)
    stats["presence"] = presence.num_rows
    return Block(
        number,
        {
            "residents": residents,
            "samplings": samplings,
            "results": results,
            "designations": designations,
            "presence": presence,
        },
        stats,
        people.id_number.filter(pa.array(people.unscanned)),
    )


def city_blocks(
    residents: int,
    seed: int,
    *,
    until: int | None = None,
    geo: Geography | None = None,
    block_rows: int = BLOCK_ROWS,
) -> Iterator[Block]:
    """The synthetic city, block by block (each at most `block_rows` people)."""
    if not 1 <= residents <= MAX_RESIDENTS:
        raise ValueError(f"residents must be between 1 and {MAX_RESIDENTS:,}")
    geo = geo or load_geography()
    employers = companies(seed, residents)
    blocks = math.ceil(residents / block_rows)
    if blocks > 100:
        raise ValueError("at most 100 blocks: tube barcodes carry the block in two digits")
    sizes = allocate(residents, np.ones(blocks))
    start = 0
    for number, size in enumerate(sizes.tolist()):
        yield make_block(
            geo,
            employers,
            seed=seed,
            number=number,
            blocks=blocks,
            size=size,
            start=start,
            until=until,
        )
        start += size
