"""What a zone's day plan is solved from, read in one statement: the base, the road network's
version when roads reach into the zone, the targets due, those already inspected that day, and
a digest of all of it as the database read it (INPUTS), which a stored plan is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from geo.due import (
    DEFAULT_RULES,
    ZONE_BOX,
    ZONE_TARGETS,
    DueRules,
    DueTarget,
    candidate,
    sort_out,
    zone_params,
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
    inputs: str  # INPUTS: md5 of the settings, the base, the roads' version and every target


# The zone's row once (MATERIALIZED) and its targets (ZONE_TARGETS), as CTEs `zone` and
# `targets` (geo/routing/stored.py reads them too): the targets' rows hold every fact the
# rules read, so equal digests mean the same targets due for the same reasons, and the same
# visited. `:settings` is what Python adds: the solver's settings and the rules.
ZONE_DAY_CTES = (
    """
WITH zone AS MATERIALIZED (
    SELECT z.boundary, """  # noqa: S608 (constant SQL: geo/due.py's)
    + ZONE_BOX
    + """, ST_X(z.base) AS base_lon, ST_Y(z.base) AS base_lat,
           CASE WHEN EXISTS (SELECT FROM road_vertex v WHERE ST_Intersects(z.boundary, v.geom))
                THEN (SELECT version FROM road_network) END AS road_version
    FROM patrol_zone z WHERE z.id = :zone_id
), targets AS ("""
    + ZONE_TARGETS
    + """)
"""
)
INPUTS = (
    "md5(concat_ws('|', CAST(:settings AS text), zone.base_lon, zone.base_lat,"
    " zone.road_version, (SELECT string_agg(CAST(t AS text), '|' ORDER BY t.kind, t.id)"
    " FROM targets t)))"
)
# A zone without targets is one row of NULL targets, a zone that does not exist no row at all.
_ZONE_DAY = text(
    ZONE_DAY_CTES  # noqa: S608 (constant SQL)
    + "SELECT zone.base_lon, zone.base_lat, zone.road_version, "
    + INPUTS
    + " AS inputs, targets.* FROM zone LEFT JOIN targets ON true"
)
_ZONE_COLUMNS = ("base_lon", "base_lat", "road_version", "inputs")


def zone_day(
    connection: Connection,
    zone_id: int,
    day: date,
    rules: DueRules = DEFAULT_RULES,
    settings: str = "",
) -> ZoneDay:
    params = {"zone_id": zone_id, "settings": settings, **zone_params(day)}
    rows = connection.execute(_ZONE_DAY, params).mappings().all()
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
        inputs=first["inputs"],
    )
