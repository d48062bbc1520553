"""Patrol zones re-cut to the load, as a district re-cuts its grids (网格) so that each team has
a day's workable set: a zone whose targets outnumber MAX_ZONE_TARGETS is halved across the
longer side of its targets at their median, and the halves again, until no part holds more.
The demo's zones hold at most ~190 targets and stay as they are; at 100,000 enterprises the
district has ~1,700 zones, at 1,000,000 ~17,000, each of MAX_ZONE_TARGETS / 2 to MAX_ZONE_TARGETS.

A zone keeps its id, name and team for the part holding its base; the other parts are new
zones after every zone of the layout, named as its grids (金峰镇第一片区第2网格). Each part
is one polygon: the zone cut by the boxes of the halving, with a piece the cut leaves apart
given to the part it shares the longest edge with. A part keeps its zone's area: where a cut
meets the zone's edge, its vertex may lie off that edge by floating-point noise, which the
area trigger's exact ST_Covers would count as outside every area (as load.py, the seed places
these rows itself, with the trigger off for the statement).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box
from shapely.ops import polylabel
from sqlalchemy import Connection, text

from geo.seed.layout import GRID_DEG
from geo.seed.people import person_names
from geo.targets import KINDS

MAX_ZONE_TARGETS = 300
LEADER_SEED = 350113
# Each kind's visiting point (where routes stop) with the zone holding it.
_TARGET_POINTS = text(
    "\nUNION ALL\n".join(
        f"SELECT z.id, ST_X({spec.point}), ST_Y({spec.point}) FROM {spec.table.name} t"  # noqa: S608
        f" JOIN patrol_zone z ON ST_Intersects(z.boundary, {spec.point})"
        for spec in KINDS.values()
    )
)
_ZONES = text(
    "SELECT id, name, team_name, area_id, ST_AsBinary(boundary) AS boundary,"
    " ST_AsBinary(base) AS base FROM patrol_zone ORDER BY id"
)


@dataclass(frozen=True)
class Part:
    boundary: Polygon
    base: Point


def recut_zones(connection: Connection, max_targets: int = MAX_ZONE_TARGETS) -> int:
    """Split every zone holding more than `max_targets` targets; the zones there are now."""
    rows = connection.execute(_TARGET_POINTS).all()
    points = np.array([(x, y) for _, x, y in rows], dtype=float).reshape(-1, 2)
    zone_of = np.array([zone for zone, _, _ in rows], dtype=int)
    zones = connection.execute(_ZONES).mappings().all()
    next_id = max((z["id"] for z in zones), default=0) + 1
    added = []
    connection.execute(text("ALTER TABLE patrol_zone DISABLE TRIGGER patrol_zone_area"))
    for zone in zones:
        mine = points[zone_of == zone["id"]]
        if len(mine) <= max_targets:
            continue
        boundary = shapely.from_wkb(bytes(zone["boundary"]))
        parts = split(boundary, shapely.from_wkb(bytes(zone["base"])), mine, max_targets)
        first, *rest = parts
        connection.execute(
            text(
                "UPDATE patrol_zone SET boundary = ST_GeomFromWKB(:boundary, 4326),"
                " name = :name, team_name = :team WHERE id = :id"
            ),
            {
                "boundary": first.boundary.wkb,
                "name": f"{zone['name']}第1网格",
                "team": f"{zone['team_name']}第1网格",
                "id": zone["id"],
            },
        )
        for number, part in enumerate(rest, start=2):
            added.append(
                {
                    "id": next_id,
                    "name": f"{zone['name']}第{number}网格",
                    "team_name": f"{zone['team_name']}第{number}网格",
                    "boundary": part.boundary.wkb,
                    "base": part.base.wkb,
                    "area_id": zone["area_id"],
                }
            )
            next_id += 1
    leaders = person_names(np.random.default_rng(LEADER_SEED), len(added))
    if added:
        connection.execute(
            text(
                "INSERT INTO patrol_zone"
                " (id, name, team_name, team_leader, boundary, base, area_id)"
                " VALUES (:id, :name, :team_name, :team_leader,"
                " ST_GeomFromWKB(:boundary, 4326), ST_GeomFromWKB(:base, 4326), :area_id)"
            ),
            [{**row, "team_leader": leader} for row, leader in zip(added, leaders, strict=True)],
        )
    connection.execute(text("ALTER TABLE patrol_zone ENABLE TRIGGER patrol_zone_area"))
    return len(zones) + len(added)


def split(boundary: Polygon, base: Point, points: np.ndarray, max_targets: int) -> list[Part]:
    """The zone's parts, the one holding its base first (with that base), then north to south."""
    cells = list(_halves(box(*boundary.buffer(GRID_DEG).bounds), points, max_targets))
    pieces = [shapely.intersection(boundary, cell) for cell in cells]
    parts = _whole([shapely.get_parts(p) for p in pieces], points, max_targets)
    parts.sort(key=lambda p: (not p.contains(base), -p.centroid.y, p.centroid.x))
    return [Part(part, base if part.contains(base) else _inside(part)) for part in parts]


def _halves(cell: Polygon, points: np.ndarray, max_targets: int) -> Iterator[Polygon]:
    if len(points) <= max_targets:
        yield cell
        return
    x0, y0, x1, y1 = cell.bounds
    spread = points.max(axis=0) - points.min(axis=0)
    axis = int(spread[1] > spread[0] * np.cos(np.radians(points[0, 1])))  # metres, roughly
    values = np.sort(points[:, axis])
    half = len(values) // 2
    cut = (values[half - 1] + values[half]) / 2
    if not values[0] < cut < values[-1]:  # every target on one spot: nothing to halve
        yield cell
        return
    low = box(x0, y0, cut, y1) if axis == 0 else box(x0, y0, x1, cut)
    high = box(cut, y0, x1, y1) if axis == 0 else box(x0, cut, x1, y1)
    yield from _halves(low, points[points[:, axis] < cut], max_targets)
    yield from _halves(high, points[points[:, axis] > cut], max_targets)


def _whole(parts: list[np.ndarray], points: np.ndarray, max_targets: int) -> list[Polygon]:
    """One polygon per cell: the part of it holding most targets (else the largest); each other
    part joins the polygon it shares the longest edge with, if that stays within the bound (else
    the next), or is a zone of its own."""

    def held(polygon: Polygon) -> int:
        return int(shapely.contains_xy(polygon, points[:, 0], points[:, 1]).sum())

    kept: list[tuple[Polygon, int]] = []
    strays: list[tuple[Polygon, int]] = []
    for cell in parts:
        found = [(p, held(p)) for p in cell if isinstance(p, Polygon) and not p.is_empty]
        if found:
            main = max(found, key=lambda f: (f[1], f[0].area))
            kept.append(main)
            strays.extend(f for f in found if f is not main)
    waiting = 0  # strays put back in a row: each touches only other strays yet
    while strays and waiting <= len(strays):
        stray, count = strays.pop(0)
        shared = [shapely.intersection(k.boundary, stray.boundary).length for k, _ in kept]
        if max(shared) == 0:
            strays.append((stray, count))
            waiting += 1
            continue
        waiting = 0
        fits = [i for i in np.argsort(shared)[::-1] if shared[i] > 0]
        fits = [i for i in fits if kept[i][1] + count <= max_targets]
        if not fits:
            kept.append((stray, count))
            continue
        polygon, total = kept[fits[0]]
        kept[fits[0]] = (shapely.union(polygon, stray), total + count)
    if strays:
        raise AssertionError("a piece of a zone touches none of its parts")
    return [polygon for polygon, _ in kept]


def _inside(part: Polygon) -> Point:
    """The team's office: a point well inside the part."""
    return polylabel(part, tolerance=GRID_DEG * 10)
