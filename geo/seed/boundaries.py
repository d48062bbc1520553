"""Rows for the areas (district, towns, villages) and the patrol zones of the demo layout."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from geo.seed.copytext import Batch, Value, batch_of_rows
from geo.seed.layout import Layout
from geo.seed.people import person_names
from geo.seed.places import DISTRICT_CODE, DISTRICT_NAME, DISTRICT_PINYIN, PARTY

LEADER_SEED = 350112
NUMERALS = "一二三四五六七八九十"
AREA_COLUMNS = ("id", "code", "name", "name_pinyin", "level", "parent_id", "synthetic", "boundary")
ZONE_COLUMNS = ("id", "name", "boundary", "team_name", "team_leader", "base")


def area_rows(layout: Layout) -> Iterator[dict[str, Value]]:
    """The district is id 1, the towns follow in TOWNS order, then the villages."""
    yield {
        "id": 1, "code": DISTRICT_CODE, "name": DISTRICT_NAME, "name_pinyin": DISTRICT_PINYIN,
        "level": "DISTRICT", "parent_id": None, "synthetic": False, "boundary": layout.district,
    }  # fmt: skip
    for i, shape in enumerate(layout.towns):
        town = shape.town
        yield {
            "id": 2 + i, "code": town.code, "name": town.name, "name_pinyin": town.name_pinyin,
            "level": "TOWN", "parent_id": 1, "synthetic": True, "boundary": shape.boundary,
        }  # fmt: skip
    next_id = 2 + len(layout.towns)
    for i, shape in enumerate(layout.towns):
        for village, boundary in shape.villages:
            yield {
                "id": next_id, "code": village.code, "name": village.name,
                "name_pinyin": village.name_pinyin, "level": "VILLAGE", "parent_id": 2 + i,
                "synthetic": True, "boundary": boundary,
            }  # fmt: skip
            next_id += 1


def zone_rows(layout: Layout) -> Iterator[dict[str, Value]]:
    count = sum(len(shape.zones) for shape in layout.towns)
    leaders = person_names(np.random.default_rng(LEADER_SEED), count)
    zone_id = 0
    for shape in layout.towns:
        town = shape.town.name
        for zone in shape.zones:
            numeral = NUMERALS[zone.ordinal - 1]
            # 金峰镇党员服务队第一片区 or 湖南镇第一工作专班, as each town names its teams.
            team = (
                f"{town}{PARTY}第{numeral}片区"
                if shape.town.team == PARTY
                else f"{town}第{numeral}{shape.town.team}"
            )
            yield {
                "id": zone_id + 1, "name": f"{town}第{numeral}片区", "boundary": zone.boundary,
                "team_name": team, "team_leader": leaders[zone_id], "base": zone.base,
            }  # fmt: skip
            zone_id += 1


def area_batch(layout: Layout) -> Batch:
    return batch_of_rows("area", AREA_COLUMNS, area_rows(layout))


def zone_batch(layout: Layout) -> Batch:
    return batch_of_rows("patrol_zone", ZONE_COLUMNS, zone_rows(layout))
