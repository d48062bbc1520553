"""What a zone's day plan is solved from, read in one statement: the base, the road network's
version when roads reach into the zone, the targets due, and those already inspected that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from geo.days import day_bounds
from geo.due import (
    DEFAULT_RULES,
    ZONE_TARGETS,
    DueRules,
    DueTarget,
    candidate,
    sort_out,
)
from geo.errors import NotFound
from geo.routing.matrix import LonLat


@dataclass(frozen=True)
class ZoneDay:
    zone_id: int
    day: date
    base: LonLat
    road_version: int | None  # None: no road inside the zone, so plans ride the straight line
    due: list[DueTarget]  # most urgent first; targets inspected on the day are not due
    visited: frozenset[str]  # global ids of the zone's targets inspected on the day


# The zone's row once (MATERIALIZED), its targets beside it; a zone without targets is one row
# of NULL targets, a zone that does not exist no row at all.
_ZONE_DAY = text(
    """
WITH zone AS MATERIALIZED (
    SELECT z.boundary, ST_X(z.base) AS base_lon, ST_Y(z.base) AS base_lat,
           CASE WHEN EXISTS (SELECT FROM road_vertex v WHERE ST_Intersects(z.boundary, v.geom))
                THEN (SELECT version FROM road_network) END AS road_version
    FROM patrol_zone z WHERE z.id = :zone_id
), targets AS ("""  # noqa: S608 (constant SQL: geo/due.py's)
    + ZONE_TARGETS
    + """)
SELECT zone.base_lon, zone.base_lat, zone.road_version, targets.*
FROM zone LEFT JOIN targets ON true
"""
)
_ZONE_COLUMNS = ("base_lon", "base_lat", "road_version")


def zone_day(
    connection: Connection, zone_id: int, day: date, rules: DueRules = DEFAULT_RULES
) -> ZoneDay:
    _, day_end = day_bounds(day)
    rows = connection.execute(_ZONE_DAY, {"zone_id": zone_id, "day_end": day_end}).mappings().all()
    if not rows:
        raise NotFound(f"no patrol zone {zone_id}")
    first = rows[0]
    found = [
        candidate({k: v for k, v in row.items() if k not in _ZONE_COLUMNS})
        for row in rows
        if row["kind"] is not None
    ]
    due, visited = sort_out(found, day, rules)
    return ZoneDay(
        zone_id=zone_id,
        day=day,
        base=(first["base_lon"], first["base_lat"]),
        road_version=first["road_version"],
        due=due,
        visited=frozenset(visited),
    )
