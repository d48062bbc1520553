"""Who is due a visit in a patrol zone on a day (每日开展一轮巡查), in priority order, and why.
One SQL query gathers the zone's targets; `classify` is the rule, in pure Python."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from geo.days import TIMEZONE, day_bounds
from geo.errors import NotFound
from geo.targets import FLAGGED, KINDS, Kind, Target, TargetKind


class Priority(enum.IntEnum):
    URGENT = 1  # red flags, fever cases reported the day before, unfiled rentals,
    # out-of-province tenants
    FOLLOW_UP = 2  # yellow flags
    ROUTINE = 3  # overdue for a routine check


def _default_service_minutes() -> dict[TargetKind, int]:
    return {kind: spec.service_minutes for kind, spec in KINDS.items()}


@dataclass(frozen=True)
class DueRules:
    routine_days: int = 7  # a green target or a quiet rental is checked at least this often
    service_minutes: dict[TargetKind, int] = field(default_factory=_default_service_minutes)


DEFAULT_RULES = DueRules()


@dataclass(frozen=True)
class Candidate:
    """A target of the zone as the database has it, before the rules decide."""

    kind: TargetKind
    id: int
    name: str
    lon: float  # the visiting point: an enterprise's or rental's point, a site's entrance
    lat: float
    key_project: bool = False
    flag_color: str | None = None  # RED, YELLOW, GREEN; None for rentals
    flag_reason: str = ""
    filed: bool = True
    tenants_out_of_province: int = 0
    last_inspected_at: datetime | None = None  # the latest visit before the day
    fever_cases: int = 0  # in the enterprise's daily health report of the day before


@dataclass(frozen=True)
class DueTarget:
    kind: TargetKind
    id: int
    name: str
    priority: Priority
    reason: str
    lon: float
    lat: float
    service_minutes: int
    key_project: bool = False

    @property
    def global_id(self) -> str:
        return str(Target(self.kind, self.id))

    @property
    def rank(self) -> int:
        """What a route keeps when a shift is short, 1 first: red flags (the report's key
        targets for help) before the urgent rentals, then yellow, then routine checks."""
        red_flag = self.priority is Priority.URGENT and self.kind in FLAGGED
        return 1 if red_flag else int(self.priority) + 1


def classify(candidate: Candidate, day: date, rules: DueRules = DEFAULT_RULES) -> DueTarget | None:
    """The target's priority and reason on `day`, or None when it is not due."""
    found = _urgent(candidate) or _follow_up(candidate) or _routine(candidate, day, rules)
    if found is None:
        return None
    priority, reason = found
    return DueTarget(
        kind=candidate.kind,
        id=candidate.id,
        name=candidate.name,
        priority=priority,
        reason=reason,
        lon=candidate.lon,
        lat=candidate.lat,
        service_minutes=rules.service_minutes[candidate.kind],
        key_project=candidate.key_project,
    )


def _urgent(c: Candidate) -> tuple[Priority, str] | None:
    if c.flag_color == "RED":
        return Priority.URGENT, f"red flag: {c.flag_reason}"
    if c.fever_cases:
        cases = f"{c.fever_cases} fever case{'s' if c.fever_cases != 1 else ''}"
        return Priority.URGENT, f"{cases} in yesterday's daily health report"
    parts = [] if c.filed else ["unfiled rental"]
    if c.tenants_out_of_province:
        n = c.tenants_out_of_province
        parts.append(f"{n} tenant{'s' if n != 1 else ''} from out of province")
    return (Priority.URGENT, "; ".join(parts)) if parts else None


def _follow_up(c: Candidate) -> tuple[Priority, str] | None:
    return (
        (Priority.FOLLOW_UP, f"yellow flag: {c.flag_reason}") if c.flag_color == "YELLOW" else None
    )


def _routine(c: Candidate, day: date, rules: DueRules) -> tuple[Priority, str] | None:
    if c.last_inspected_at is None:
        return Priority.ROUTINE, "routine check: never inspected"
    days = (day - c.last_inspected_at.astimezone(TIMEZONE).date()).days
    if days < rules.routine_days:
        return None
    return (
        Priority.ROUTINE,
        f"routine check: last inspected {days} day{'s' if days != 1 else ''} ago",
    )


def sort_key(target: DueTarget) -> tuple[int, bool, str, int]:
    """Priority first; key projects first within a priority; then a stable order."""
    return target.priority, not target.key_project, target.kind.value, target.id


# What a Candidate field reads for a kind of target that does not have it.
_NOT_HELD = {
    "key_project": "false",
    "flag_color": "NULL::text",
    "flag_reason": "''",
    "filed": "true",
    "tenants_out_of_province": "0",
    "fever_cases": "0",
}


def _zone_targets(kind: TargetKind, spec: Kind) -> str:
    facts = {**_NOT_HELD, **spec.facts}
    visits = f"inspection i WHERE i.{spec.column} = t.id AND i.at < :day_end"
    last = f"(SELECT max(i.at) FROM {visits})"  # noqa: S608 (constant SQL: geo/targets.py's)
    if (kept := spec.visited_at) is not None:  # greatest() skips NULLs
        last = f"greatest({last}, CASE WHEN t.{kept} < :day_end THEN t.{kept} END)"
    held = ", ".join(f"{sql} AS {name}" for name, sql in facts.items())
    in_zone = " OR ".join(f"ST_Intersects({g}, zone.boundary)" for g in spec.in_zone)
    if spec.box is not None:  # implied by the point being in the zone: only a way in
        x, y = spec.box
        in_zone = (
            f"{x} BETWEEN zone.xmin AND zone.xmax AND {y} BETWEEN zone.ymin AND zone.ymax"
            f" AND ({in_zone})"
        )
    place = f"ST_X({spec.point}) AS lon, ST_Y({spec.point}) AS lat"
    return (
        f"SELECT '{kind.name}' AS kind, t.id, {spec.name} AS name, {place}, {held},"  # noqa: S608
        f" {last} AS last_inspected_at FROM {spec.table.name} t, zone WHERE {in_zone}"
    )


# The zone's targets of every kind, each with its latest visit before the end of the day, from
# a CTE `zone` holding the zone's `boundary` and its box (ZONE_BOX). Each probe of `inspection`
# uses its target index. geo/routing/inputs.py reads it too.
ZONE_TARGETS = "\nUNION ALL\n".join(_zone_targets(kind, spec) for kind, spec in KINDS.items())
ZONE_BOX = (
    "ST_XMin(z.boundary) AS xmin, ST_XMax(z.boundary) AS xmax,"
    " ST_YMin(z.boundary) AS ymin, ST_YMax(z.boundary) AS ymax"
)
_CANDIDATES = text(
    f"WITH zone AS (SELECT z.boundary, {ZONE_BOX} FROM patrol_zone z WHERE z.id = :zone_id)"  # noqa: S608 (constants)
    + ZONE_TARGETS
)


def candidates(connection: Connection, zone_id: int, day: date) -> list[Candidate]:
    """Every target of the zone with what the rules read, as of the end of `day`."""
    rows = connection.execute(_CANDIDATES, {"zone_id": zone_id, **zone_params(day)}).mappings()
    return [candidate(row) for row in rows]


def zone_params(day: date) -> dict[str, Any]:
    """What ZONE_TARGETS binds for `day`: the end of the day, and the day before (whose health
    reports put fever cases on the route)."""
    _, day_end = day_bounds(day)
    return {"day_end": day_end, "day_before": day - timedelta(days=1)}


# `sort_out`'s verdict on a ZONE_TARGETS row as SQL, for counting the rounds of many zones in
# one statement (the daily briefing) without a Candidate per target: inspected on the day, or
# due by `classify`. tests/geo/test_due.py holds them to the same answers.
VISITED_SQL = "last_inspected_at >= :day_start"
DUE_SQL = (
    "flag_color IN ('RED', 'YELLOW') OR fever_cases > 0 OR NOT filed"
    " OR tenants_out_of_province > 0 OR last_inspected_at IS NULL"
    " OR last_inspected_at < :routine_before"
)


def count_params(day: date, rules: DueRules = DEFAULT_RULES) -> dict[str, Any]:
    """What VISITED_SQL and DUE_SQL bind beside zone_params: the day's first instant, and the
    first instant of the day a routine check stops being due ((day - last visit) < routine
    days, counted in the district's days)."""
    return {
        **zone_params(day),
        "day_start": day_bounds(day)[0],
        "routine_before": day_bounds(day - timedelta(days=rules.routine_days - 1))[0],
    }


def candidate(row: Mapping[Any, Any]) -> Candidate:
    """A row of ZONE_TARGETS as a Candidate."""
    return Candidate(**{**row, "kind": TargetKind[row["kind"]]})


def zone_base(connection: Connection, zone_id: int) -> tuple[float, float]:
    """The (lon, lat) of the zone team's base, where every route starts and ends."""
    row = connection.execute(
        text("SELECT ST_X(base), ST_Y(base) FROM patrol_zone WHERE id = :zone_id"),
        {"zone_id": zone_id},
    ).first()
    if row is None:
        raise NotFound(f"no patrol zone {zone_id}")
    return row[0], row[1]


def due_targets(
    connection: Connection, zone_id: int, day: date, rules: DueRules = DEFAULT_RULES
) -> list[DueTarget]:
    """The zone's targets due on `day`, most urgent first; those inspected that day are not."""
    zone_base(connection, zone_id)  # an unknown zone is NotFound, not an empty list
    due, _ = sort_out(candidates(connection, zone_id, day), day, rules)
    return due


def sort_out(
    found: Iterable[Candidate], day: date, rules: DueRules = DEFAULT_RULES
) -> tuple[list[DueTarget], set[str]]:
    """The targets due on `day`, most urgent first, and the global ids of those inspected on
    the day (which are not due)."""
    day_start, _ = day_bounds(day)
    due, visited = [], set()
    for c in found:
        if c.last_inspected_at is not None and c.last_inspected_at >= day_start:
            visited.add(str(Target(c.kind, c.id)))
            continue
        target = classify(c, day, rules)
        if target is not None:
            due.append(target)
    return sorted(due, key=sort_key), visited
