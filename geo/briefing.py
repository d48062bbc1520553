"""The town's day on one page (每日汇总一张图表, the material of 每日进行一次会商): for an area and
each area one level below it, the flags and what changed since the day before, the boards not
updated, and for the officers of the area, health registration, inspections and quarantine.

Public (DOMAIN.md: counts, names and flags are): flag counts, new reds with their reasons,
reds turned green, stale signboards. Restricted to the officers of the area (scope.officer_of):
health registration compliance and totals, inspections done against due, quarantine beds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import RowMapping, select, text
from sqlalchemy.orm import Session

from geo import due, signboards
from geo.days import cutoff, end_of
from geo.db import Executor
from geo.errors import NotFound
from geo.flag_counts import (
    AREA,
    FlagCounts,
    area_columns,
    area_flag_counts,
    flag_counts,
)
from geo.scope import Caller, officer_of

TREND_DAYS = 14
# Per day, oldest first: each child area's (or the area's own) name and flag counts.
Trend = list[tuple[date, list[tuple[str, FlagCounts]]]]


@dataclass(frozen=True)
class TurnedRed:
    kind: str  # the GraphQL type name: Enterprise or ConstructionSite
    id: int
    name: str
    reason: str  # the flag's reason at the end of the day


@dataclass(frozen=True)
class Health:
    """一日一登记 on the day: enterprises back at work (green or yellow) are expected to report."""

    expected: int
    reported: int  # of those expected
    missing: list[tuple[int, str]]  # (id, name) of the expected that did not report
    fever: int  # totals over every report of the day in the area
    isolated: int
    out_of_province: int


@dataclass(frozen=True)
class Inspections:
    due: int  # targets due on the day in the area's patrol zones, those inspected included
    visited: int  # targets of those zones inspected on the day


@dataclass(frozen=True)
class Quarantine:
    sites: int
    beds_total: int
    beds_occupied: int  # each site's latest figure on or before the day


@dataclass(frozen=True)
class Restricted:
    health: Health
    inspections: Inspections
    quarantine: Quarantine


@dataclass(frozen=True)
class AreaDay:
    area: RowMapping  # the area's columns, as geo.queries reads them
    flags: FlagCounts  # at the end of the day
    previous: FlagCounts  # at the end of the day before
    turned_red: list[TurnedRed]  # green or yellow the day before, red at the end of the day
    red_to_green: int
    stale_signboards: int
    restricted: Restricted | None  # None: the caller is not an officer of this area


@dataclass(frozen=True)
class Briefing:
    day: date
    area: AreaDay
    children: list[AreaDay]  # one level below, by code; none for an area without children


def daily_briefing(session: Session, caller: Caller, area_code: str, day: date) -> Briefing:
    """The briefing of `day` for the area and its children, as this caller may see it."""
    cutoff(day)  # a day in the future is refused as flag counts refuse it
    area = _area(session, area_code)
    children = list(
        session.execute(
            select(*area_columns()).where(AREA.c.parent_id == area["id"]).order_by(AREA.c.code)
        ).mappings()
    )
    roots = [area, *children]
    ids = [r["id"] for r in roots]
    params = {
        "roots": ids,
        "day": day,
        "start": end_of(day - timedelta(days=1)),
        "end": end_of(day),
    }
    roots_of: dict[int, list[int]] = defaultdict(list)
    for below in session.execute(_BELOW, params):
        roots_of[below.id].append(below.root_id)
    counts = area_flag_counts(session, ids, day)
    previous = area_flag_counts(session, ids, day - timedelta(days=1))
    changed: dict[int, list[RowMapping]] = defaultdict(list)
    for row in session.execute(_FLAG_CHANGES, params).mappings():
        changed[row["root_id"]].append(row)
    stale = Counter(
        root
        for row in signboards.stale_signboards(session, area_code, day)
        for root in roots_of[row["area_id"]]
    )
    officer = {r["id"]: officer_of(session, caller, r["id"]) for r in roots}
    restricted = _restricted(session, params, roots_of) if any(officer.values()) else {}

    def area_day(root: RowMapping) -> AreaDay:
        inside = changed[root["id"]]
        return AreaDay(
            area=root,
            flags=counts[root["id"]],
            previous=previous[root["id"]],
            turned_red=[
                TurnedRed(c["kind"], c["id"], c["name"], c["reason"])
                for c in inside
                if c["now"] == "RED" and c["before"] in ("GREEN", "YELLOW")
            ],
            red_to_green=sum(1 for c in inside if c["before"] == "RED" and c["now"] == "GREEN"),
            stale_signboards=stale[root["id"]],
            restricted=restricted.get(root["id"]) if officer[root["id"]] else None,
        )

    return Briefing(day, area_day(area), [area_day(child) for child in children])


def flag_trend(session: Executor, area_code: str, day: date, days: int = TREND_DAYS) -> Trend:
    """Flag counts per child area (or the area itself when it has none) for each of the `days`
    days up to `day`, oldest first: what the summary chart stacks."""
    trend = []
    for back in range(days - 1, -1, -1):
        on = day - timedelta(days=back)
        rows = flag_counts(session, area_code, on)
        if not rows:
            area = _area(session, area_code)
            own = area_flag_counts(session, [area["id"]], on)[area["id"]]
            trend.append((on, [(area["name"], own)]))
        else:
            trend.append((on, [(r.area["name"], FlagCounts(*r[1:])) for r in rows]))
    return trend


def occupancy_trend(
    session: Executor, area_code: str, day: date, days: int = TREND_DAYS
) -> list[tuple[date, int, int]]:
    """(day, beds occupied, beds total) of the area's quarantine sites, oldest first."""
    rows = session.execute(
        _OCCUPANCY_TREND,
        {
            "roots": [_area(session, area_code)["id"]],
            "first": day - timedelta(days - 1),
            "day": day,
        },
    )
    return [(row.day, row.occupied, row.total) for row in rows]


def _area(session: Executor, code: str) -> RowMapping:
    row = session.execute(select(*area_columns()).where(AREA.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no area has the code {code!r}; `areas` lists the codes")
    return row


# Each area below the roots (themselves included) with the root it lies under; an area lies
# under the briefing's area and under one of its children.
_SUBTREE = """
WITH RECURSIVE below AS (
    SELECT id, id AS root_id FROM area WHERE id = ANY(:roots)
    UNION ALL SELECT a.id, below.root_id FROM area a JOIN below ON a.parent_id = below.id
)"""
_BELOW = text(_SUBTREE + " SELECT id, root_id FROM below")  # noqa: S608


def _last_change(column: str, fk: str, before: str) -> str:
    """SQL: a target's last flag_change `column` before the bound time `before`."""
    return (
        f"(SELECT f.{column} FROM flag_change f WHERE f.{fk} = t.id AND f.at < :{before}"  # noqa: S608
        " ORDER BY f.at DESC, f.id DESC LIMIT 1)"
    )


def _changes_of(type_name: str, table: str, fk: str) -> str:
    return f"""
    SELECT below.root_id, '{type_name}' AS kind, t.id, t.name,
           {_last_change("to_color::text", fk, "end")} AS now,
           {_last_change("to_color::text", fk, "start")} AS before,
           {_last_change("reason", fk, "end")} AS reason
    FROM {table} t JOIN below ON below.id = t.area_id
    WHERE EXISTS (SELECT FROM flag_change f WHERE f.{fk} = t.id AND f.at >= :start AND f.at < :end)
    """  # noqa: S608


# Targets whose colour at the end of the day differs from the day before's, per root.
_FLAG_CHANGES = text(
    _SUBTREE  # noqa: S608
    + ", colored AS ("
    + _changes_of("Enterprise", "enterprise", "enterprise_id")
    + " UNION ALL "
    + _changes_of("ConstructionSite", "construction_site", "construction_site_id")
    + ") SELECT * FROM colored WHERE now IS DISTINCT FROM before ORDER BY root_id, kind DESC, id"
)

# Per root: the enterprises expected to register (back at work: green or yellow at the end of
# the day), those of them that did, the missing ones, and the totals of every report.
_HEALTH = text(
    _SUBTREE  # noqa: S608
    + """
, registered AS (
    SELECT t.id, t.name, below.root_id, h.enterprise_id IS NOT NULL AS reported,
           coalesce("""
    + _last_change("to_color::text", "enterprise_id", "end")
    + """ IN ('GREEN', 'YELLOW'), false) AS expected,
           h.fever, h.isolated, h.out_of_province
    FROM enterprise t JOIN below ON below.id = t.area_id
    LEFT JOIN health_report h ON h.enterprise_id = t.id AND h.day = :day
)
SELECT root_id,
       count(*) FILTER (WHERE expected) AS expected,
       count(*) FILTER (WHERE expected AND reported) AS reported,
       coalesce(array_agg(id ORDER BY id) FILTER (WHERE expected AND NOT reported), '{}')
           AS missing_ids,
       coalesce(array_agg(name ORDER BY id) FILTER (WHERE expected AND NOT reported), '{}')
           AS missing_names,
       coalesce(sum(fever), 0)::int AS fever, coalesce(sum(isolated), 0)::int AS isolated,
       coalesce(sum(out_of_province), 0)::int AS out_of_province
FROM registered GROUP BY root_id
"""
)

_QUARANTINE = text(
    _SUBTREE  # noqa: S608
    + """
SELECT below.root_id, count(*) AS sites, sum(q.beds_total)::int AS beds_total,
       sum(coalesce((SELECT o.beds_occupied FROM quarantine_occupancy o
                     WHERE o.quarantine_site_id = q.id AND o.day <= :day
                     ORDER BY o.day DESC LIMIT 1), 0))::int AS beds_occupied
FROM quarantine_site q JOIN below ON below.id = q.area_id
GROUP BY below.root_id
"""
)

_OCCUPANCY_TREND = text(
    _SUBTREE  # noqa: S608
    + """
SELECT d::date AS day, coalesce(sum(last.beds_occupied), 0)::int AS occupied,
       coalesce(sum(q.beds_total), 0)::int AS total
FROM generate_series(:first, :day, interval '1 day') d
CROSS JOIN quarantine_site q
LEFT JOIN LATERAL (SELECT o.beds_occupied FROM quarantine_occupancy o
                   WHERE o.quarantine_site_id = q.id AND o.day <= d::date
                   ORDER BY o.day DESC LIMIT 1) last ON true
WHERE q.area_id IN (SELECT id FROM below)
GROUP BY d ORDER BY d
"""
)

# Each area's rounds of the day: over its zones, the targets due (those inspected included)
# and those inspected, by geo.due's rules, in one statement however many zones there are.
_ROUNDS = text(
    f"""
SELECT z.area_id, count(*) FILTER (WHERE {due.VISITED_SQL} OR {due.DUE_SQL}) AS due,
       count(*) FILTER (WHERE {due.VISITED_SQL}) AS visited
FROM patrol_zone z
CROSS JOIN LATERAL (WITH zone AS (SELECT z.boundary, {due.ZONE_BOX}) {due.ZONE_TARGETS}) target
WHERE z.area_id = ANY(:areas)
GROUP BY z.area_id
"""  # noqa: S608 (constant SQL: geo/due.py's)
)


def _restricted(
    session: Session, params: dict[str, Any], roots_of: dict[int, list[int]]
) -> dict[int, Restricted]:
    """The restricted parts of each root area (the briefing's area and its children)."""
    health = {row["root_id"]: row for row in session.execute(_HEALTH, params).mappings()}
    beds = {row["root_id"]: row for row in session.execute(_QUARANTINE, params).mappings()}
    rounds: dict[int, Counter[str]] = defaultdict(Counter)
    counted = {"areas": list(roots_of), **due.count_params(params["day"])}
    for area_id, due_count, visited in session.execute(_ROUNDS, counted):
        for root in roots_of[area_id]:
            rounds[root].update(due=due_count, visited=visited)
    return {
        root: Restricted(
            health=_health(health.get(root)),
            inspections=Inspections(due=rounds[root]["due"], visited=rounds[root]["visited"]),
            quarantine=Quarantine(
                sites=beds[root]["sites"] if root in beds else 0,
                beds_total=beds[root]["beds_total"] if root in beds else 0,
                beds_occupied=beds[root]["beds_occupied"] if root in beds else 0,
            ),
        )
        for root in params["roots"]
    }


def _health(row: RowMapping | None) -> Health:
    if row is None:
        return Health(0, 0, [], 0, 0, 0)
    missing = list(zip(row["missing_ids"], row["missing_names"], strict=True))
    return Health(
        row["expected"], row["reported"], missing, row["fever"], row["isolated"],
        row["out_of_province"],
    )  # fmt: skip
