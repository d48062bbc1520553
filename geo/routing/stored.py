"""Stored day plans (table `route_plan`): a zone's plan is solved once, then answered again for
as long as the fingerprint of its inputs holds: the same stops in the same order, without
solving. Across processes and hosts one request solves while the others wait on an advisory
lock, then read what it stored. No state in the process.

A visit during the day does not re-plan: the visited target stays in its place (marked), and
the plan counts as unchanged while the targets still to visit are those it planned.

A repeated pull is one statement (`reused`): the zone's inputs digested by PostgreSQL
(inputs.INPUTS) and compared with the digest the plan was last checked against, the answer cut
from the stored plan (answer.py). Any change of what the rules read (a visit, a flag, a place,
a report of fever) changes the digest; the next pull then checks the fingerprint on the primary
(`solved`), stamps the plan with the new digest if it holds, and solves only if it does not.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geo.days import day_bounds
from geo.due import DueTarget, zone_params
from geo.routing.answer import Shape, routes_sql, unvisited_sql
from geo.routing.codec import plan_json, plan_of, plan_targets, target_json
from geo.routing.inputs import INPUTS, ZONE_DAY_CTES, ZoneDay, zone_day
from geo.routing.matrix import DETOUR_FACTOR, SPEED_KMH
from geo.routing.plan import DEFAULT_SETTINGS, InspectionPlan, PlanSettings, solve_zone_day
from geo.targets import TargetKind

FORMAT = 1  # of the stored JSON and the fingerprint: raise it when either changes
SOLVE_LIMIT_S = 60  # a solve's statements, and a wait for another request's solve of the key


@dataclass(frozen=True)
class PlanKey:
    zone_id: int
    day: date
    inspectors: int
    shift_minutes: int
    keep: bool = True  # stored for reuse; False outside the retention window (geo/retention.py)

    @property
    def lock_name(self) -> str:
        return f"route_plan:{self.zone_id}:{self.day}:{self.inspectors}:{self.shift_minutes}"


@dataclass(frozen=True)
class StoredPlan:
    stored: InspectionPlan | Mapping[str, Any]  # the plan, or its JSON (decoded when read)
    planned_at: datetime  # when it was solved; the same on every answer until it is re-solved
    solves: int  # how many times this key has been solved
    visited: frozenset[str]  # global ids of the zone's targets inspected on the day
    answer: Mapping[str, bytes] = field(default_factory=dict)  # "routes", "unvisited": JSON

    @functools.cached_property
    def plan(self) -> InspectionPlan:
        if isinstance(self.stored, InspectionPlan):
            return self.stored
        return plan_of(dict(self.stored))

    @property
    def distance_model(self) -> str:
        """Without decoding a plan read as JSON."""
        if isinstance(self.stored, InspectionPlan):
            return self.stored.distance_model
        return str(self.stored["distance_model"])


def reused(
    connection: Connection,
    key: PlanKey,
    settings: PlanSettings = DEFAULT_SETTINGS,
    shape: Shape | None = None,
) -> StoredPlan | None:
    """The stored plan while the digest of its inputs holds, else None; with the answer cut
    to `shape`. One statement; reads only: a replica will do."""
    cut = []
    if shape is not None and shape.routes is not None:
        cut.append(f", CAST({routes_sql(shape.routes)} AS text) AS routes")
    if shape is not None and shape.unvisited is not None:
        cut.append(f", CAST({unvisited_sql(shape.unvisited)} AS text) AS unvisited")
    day_start, _ = day_bounds(key.day)
    row = connection.execute(
        text(_REUSE[0] + "".join(cut) + _REUSE[1]),
        {
            **vars(key),
            **zone_params(key.day),
            "day_start": day_start,
            "settings": settings_key(settings),
        },
    ).first()
    if row is None:
        return None
    answer: dict[str, bytes] = {
        name: getattr(row, name).encode() for name in ("routes", "unvisited") if name in row._fields
    }
    return StoredPlan(row.plan, row.planned_at, row.solves, frozenset(row.visited), answer)


def solved(
    connection: Connection, key: PlanKey, settings: PlanSettings = DEFAULT_SETTINGS
) -> StoredPlan:
    """The stored plan, solved and stored first unless it holds. In a transaction on the
    primary: the lock waits for a request solving the same key, and is held to the commit.
    A key not to keep is solved and answered only."""
    if not key.keep:
        inputs = zone_day(connection, key.zone_id, key.day, settings.rules)
        plan, _ = _solve(connection, key, inputs, settings)
        return StoredPlan(plan, datetime.now(UTC), 1, inputs.visited)
    # The solver keeps its own limit (settings.time_limit_s): a serving connection's short
    # statement and lock timeouts would cut a road matrix, or a wait for another's solve.
    connection.execute(
        text(
            "SELECT set_config('statement_timeout', :limit, true),"
            " set_config('lock_timeout', :limit, true)"
        ),
        {"limit": f"{SOLVE_LIMIT_S}s"},
    )
    connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": key.lock_name}
    )
    # Read after the lock: READ COMMITTED shows what a request before us has just stored.
    inputs = zone_day(connection, key.zone_id, key.day, settings.rules, settings_key(settings))
    stored = _fresh(connection, key, inputs, settings)
    if stored is not None:
        return stored
    plan, solve_ms = _solve(connection, key, inputs, settings)
    row = connection.execute(
        _UPSERT,
        {
            "zone_id": key.zone_id,
            "day": key.day,
            "inspectors": key.inspectors,
            "shift_minutes": key.shift_minutes,
            "fingerprint": fingerprint(inputs, inputs.due, settings),
            "inputs": inputs.inputs,
            "plan": json.dumps(plan_json(plan), ensure_ascii=False),
            "solve_ms": solve_ms,
        },
    ).one()
    return StoredPlan(plan, row.planned_at, row.solves, inputs.visited)


def _solve(
    connection: Connection, key: PlanKey, inputs: ZoneDay, settings: PlanSettings
) -> tuple[InspectionPlan, int]:
    """The plan and the milliseconds its solve took (also told to SOLVES' observers)."""
    started = time.perf_counter()
    plan = solve_zone_day(connection, inputs, key.inspectors, key.shift_minutes, settings)
    seconds = time.perf_counter() - started
    for observe in SOLVE_OBSERVERS:
        observe(seconds)
    return plan, round(seconds * 1000)


# Called with each solve's seconds: how the server's metrics count solves without geo knowing.
SOLVE_OBSERVERS: list[Callable[[float], None]] = []


def stored_plan(
    connection: Connection, key: PlanKey, settings: PlanSettings = DEFAULT_SETTINGS
) -> StoredPlan:
    """Reused if it holds, else solved: for a script on the primary, inside a transaction."""
    return reused(connection, key, settings) or solved(connection, key, settings)


def fingerprint(inputs: ZoneDay, targets: Iterable[DueTarget], settings: PlanSettings) -> str:
    """sha256 of everything the plan is solved from: the targets (kind, id, name, place,
    priority, reason, service time), the base, the roads' version, the solver's settings."""
    material = {
        "format": FORMAT,
        "base": list(inputs.base),
        "roads": inputs.road_version,
        "settings": _settings(settings),
        "targets": sorted((target_json(t) for t in targets), key=lambda t: (t["kind"], t["id"])),
    }
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def settings_key(settings: PlanSettings) -> str:
    """What of the settings the digest of a plan's inputs holds besides the database's rows."""
    material = {
        "format": FORMAT,
        "settings": _settings(settings),
        "service_minutes": {k.value: m for k, m in settings.rules.service_minutes.items()},
    }
    return json.dumps(material, sort_keys=True)


def _settings(settings: PlanSettings) -> dict[str, Any]:
    if settings.matrix is not None:
        raise ValueError("a stored plan's distances follow the zone's roads: leave matrix unset")
    return {
        "shift_start": settings.shift_start.isoformat(),
        "time_limit_s": settings.time_limit_s,
        "solver": settings.solver,
        "routine_days": settings.rules.routine_days,
        "straight_line": [DETOUR_FACTOR, SPEED_KMH],
    }


def _fresh(
    connection: Connection, key: PlanKey, inputs: ZoneDay, settings: PlanSettings
) -> StoredPlan | None:
    row = connection.execute(
        text(
            "SELECT fingerprint, inputs, plan, planned_at, solves FROM route_plan"
            " WHERE zone_id = :zone_id AND day = :day AND inspectors = :inspectors"
            " AND shift_minutes = :shift_minutes"
        ),
        vars(key),
    ).first()
    if row is None:
        return None
    plan = plan_of(row.plan)
    # Targets visited since the plan was made are no longer due, but still its inputs.
    kept = [t for t in plan_targets(plan) if t.global_id in inputs.visited]
    if fingerprint(inputs, [*inputs.due, *kept], settings) != row.fingerprint:
        return None
    if row.inputs != inputs.inputs:  # the plan holds: stamped, so that pulls reuse it at once
        connection.execute(
            text(
                "UPDATE route_plan SET inputs = :inputs WHERE zone_id = :zone_id AND day = :day"
                " AND inspectors = :inspectors AND shift_minutes = :shift_minutes"
            ),
            {**vars(key), "inputs": inputs.inputs},
        )
    return StoredPlan(plan, row.planned_at, row.solves, inputs.visited)


_UPSERT = text(
    """
    INSERT INTO route_plan AS p
        (zone_id, day, inspectors, shift_minutes, fingerprint, inputs, plan, planned_at, solve_ms)
    VALUES (:zone_id, :day, :inspectors, :shift_minutes, :fingerprint, :inputs,
            CAST(:plan AS jsonb), clock_timestamp(), :solve_ms)
    ON CONFLICT (zone_id, day, inspectors, shift_minutes) DO UPDATE
    SET fingerprint = excluded.fingerprint, inputs = excluded.inputs, plan = excluded.plan,
        planned_at = excluded.planned_at, solve_ms = excluded.solve_ms, solves = p.solves + 1
    RETURNING planned_at, solves
    """
)

# The targets inspected on the day, as global ids: the kinds' names as ZONE_TARGETS has them.
_GLOBAL_ID = "CASE t.kind " + " ".join(f"WHEN '{k.name}' THEN '{k.value}'" for k in TargetKind)
# The answer's columns (answer.py) go between the two.
_REUSE = (
    ZONE_DAY_CTES  # noqa: S608 (constant SQL)
    + ", seen AS (SELECT coalesce(array_agg(concat("
    + _GLOBAL_ID
    + " END, ':', t.id)), '{}') AS ids FROM targets t WHERE t.last_inspected_at >= :day_start)"
    " SELECT p.plan, p.planned_at, p.solves, seen.ids AS visited",
    " FROM route_plan p, zone, seen"
    " WHERE p.zone_id = :zone_id AND p.day = :day AND p.inspectors = :inspectors"
    " AND p.shift_minutes = :shift_minutes AND p.inputs = " + INPUTS,
)
