"""Inspections recorded from the field: idempotent on the client's key, fenced to the target,
and carrying, when the inspector saw it, a status report that moves the flag."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from geoalchemy2 import Geography
from shapely.geometry.base import BaseGeometry
from sqlalchemy import cast, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo import flag_writes, layers, scope
from geo.crs import Crs
from geo.days import day_bounds
from geo.errors import BadInput, IdempotencyConflict, OutsideGeofence
from geo.flag_rules import ResumptionReport
from geo.geometry import to_sql
from geo.models import Inspection, table_of
from geo.scope import Caller
from geo.targets import FLAGGED, KINDS, Target, inspected_id

INSPECTION = table_of(Inspection)
MAX_FINDINGS_CHARS = 5000
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class Fence:
    geofence_m: float = 100.0  # how far from a point target a visit may be recorded
    max_gps_accuracy_m: float = 50.0  # a fix worse than this proves nothing
    # How far ahead of the server's clock a phone's `at` may run: a visit from the future
    # would date every later flag change of its target after it (flag history never goes back).
    max_clock_skew: timedelta = timedelta(minutes=5)


DEFAULT_FENCE = Fence()


@dataclass(frozen=True)
class Visit:
    key: str
    target: Target
    at: datetime
    location: BaseGeometry  # a Point, in `crs`
    crs: Crs
    findings: str
    gps_accuracy_m: float | None = None
    report: ResumptionReport | None = None

    @property
    def digest(self) -> str:
        """The sha256 of what was sent, to tell a replay from another visit under the same key."""
        sent = {
            "target": str(self.target),
            "at": self.at.astimezone(UTC).isoformat(),
            "location": self.location.wkt,
            "crs": self.crs.value,
            "findings": self.findings,
            "gps_accuracy_m": self.gps_accuracy_m,
            "report": None if self.report is None else asdict(self.report),
        }
        return hashlib.sha256(orjson.dumps(sent, default=str)).hexdigest()


def record(
    session: Session,
    caller: Caller,
    visit: Visit,
    fence: Fence,
    thresholds: flag_writes.Thresholds,
) -> int:
    """The id of the inspection this key names: the one recorded before, or a new one, in the
    caller's transaction. A replay returns the first and changes nothing, also when two race;
    the same key with another payload is IdempotencyConflict."""
    _check(visit, fence, datetime.now(UTC))
    earlier = _by_key(session, caller, visit)
    if earlier is not None:
        return earlier
    target, kind = visit.target, KINDS[visit.target.kind]
    layer = layers.BY_TYPE_NAME[target.kind.value]
    scope.require_visit(session, caller, layer, target.id)
    point = to_sql(visit.location, visit.crs)
    distance_m = session.execute(_distance(layer, target.id, point)).scalar_one()
    if distance_m > (0 if kind.fenced_inside else fence.geofence_m):
        where = (
            f"outside its {kind.place}"
            if kind.fenced_inside
            else (f"more than {fence.geofence_m:.0f} m away")
        )
        raise OutsideGeofence(
            f"the location is {distance_m:.0f} m from {target}, {where}; record the visit at"
            " the target (is the location's crs right?)"
        )
    values = {
        kind.column: target.id,
        "account_id": caller.account_id,
        "idempotency_key": visit.key,
        "at": visit.at,
        "geom": point,
        "distance_m": distance_m,
        "gps_accuracy_m": visit.gps_accuracy_m,
        "findings": visit.findings,
        "payload_sha256": visit.digest,
    }
    # A racing replay waits on the unique key, then finds the first one's row.
    inserted = session.execute(
        insert(INSPECTION)
        .values(values)
        .on_conflict_do_nothing(constraint="inspection_idempotency")
        .returning(INSPECTION.c.id)
    ).scalar_one_or_none()
    if inserted is None:
        found = _by_key(session, caller, visit)
        assert found is not None  # the conflicting row is committed, or we would still wait
        return found
    _follow_up(session, caller, visit, thresholds)
    return inserted


def _check(visit: Visit, fence: Fence, now: datetime) -> None:
    if not visit.key or len(visit.key) > MAX_KEY_CHARS:
        raise BadInput(f"idempotencyKey has 1 to {MAX_KEY_CHARS} characters")
    if len(visit.findings) > MAX_FINDINGS_CHARS:
        raise BadInput(f"findings have at most {MAX_FINDINGS_CHARS} characters")
    if visit.at.tzinfo is None:
        raise BadInput("`at` needs a UTC offset, such as 2020-02-28T09:30:00+08:00")
    if visit.at > now + fence.max_clock_skew:
        minutes = fence.max_clock_skew.total_seconds() / 60
        raise BadInput(
            f"`at` ({visit.at.isoformat()}) is more than {minutes:.0f} minutes ahead of the"
            f" server's clock ({now.isoformat()}); is the phone's clock right?"
        )
    accuracy = visit.gps_accuracy_m
    if accuracy is None:
        # A fix of unknown quality proves nothing: no accuracy is not a pass.
        raise BadInput("gpsAccuracyMeters is needed: the fix's accuracy, as the phone reports it")
    if not 0 <= accuracy <= fence.max_gps_accuracy_m:
        raise BadInput(
            f"a GPS accuracy of {accuracy:.0f} m is worse than the {fence.max_gps_accuracy_m:.0f} m"
            " needed; wait for a better fix"
        )
    if visit.report is not None and visit.target.kind not in FLAGGED:
        raise BadInput(f"{visit.target} flies no flag: it has no resumption status to report")


def _distance(layer: layers.Layer, target_id: int, point: Any) -> Any:
    """Metres on the ellipsoid from the point to the target: its point, or its footprint."""
    column = layer.geometry
    return select(func.ST_Distance(cast(column, Geography), cast(point, Geography))).where(
        layer.table.c.id == target_id
    )


def _follow_up(
    session: Session, caller: Caller, visit: Visit, thresholds: flag_writes.Thresholds
) -> None:
    if visit.report is not None:
        flag_writes.apply_report(
            session, visit.target, visit.report, caller.username, visit.at, thresholds
        )
    elif (column := KINDS[visit.target.kind].visited_at) is not None:
        # A visit kept on the row too (a rental's last_inspected_at), for its importers.
        table = KINDS[visit.target.kind].table
        session.execute(
            table.update()
            .where(table.c.id == visit.target.id)
            .values({column: func.greatest(table.c[column], visit.at)})
        )


def _by_key(session: Session, caller: Caller, visit: Visit) -> int | None:
    """The caller's inspection under the visit's key, if it was sent with the same payload."""
    query = select(INSPECTION.c.id, INSPECTION.c.payload_sha256).where(
        INSPECTION.c.account_id == caller.account_id, INSPECTION.c.idempotency_key == visit.key
    )
    found = session.execute(query).first()
    if found is None:
        return None
    if found.payload_sha256 not in (None, visit.digest):
        raise IdempotencyConflict(
            f"idempotencyKey {visit.key!r} was first sent with another visit"
            f" (Inspection:{found.id}); send a new key for a new visit"
        )
    return found.id


_JOINS = "\n".join(
    f"LEFT JOIN {s.table.name} t{n} ON t{n}.id = i.{s.column}" for n, s in enumerate(KINDS.values())
)
_PLACES = ", ".join(f"t{n}.{s.place}" for n, s in enumerate(KINDS.values()))
_VISITED = text(
    f"SELECT i.id, {inspected_id('i')} AS target FROM inspection i"  # noqa: S608 (constants)
    f" JOIN patrol_zone z ON z.id = :zone_id {_JOINS}"
    " WHERE i.at >= :day_start AND i.at < :day_end"
    f" AND ST_Intersects(z.boundary, coalesce({_PLACES})) ORDER BY i.at, i.id"
)


def visited(session: Session, zone_id: int, day: date) -> list[tuple[int, str]]:
    """The inspections recorded on `day` (Asia/Shanghai) of targets in the zone, oldest
    first, each with its target's id: what the day's progress counts."""
    day_start, day_end = day_bounds(day)
    rows = session.execute(
        _VISITED, {"zone_id": zone_id, "day_start": day_start, "day_end": day_end}
    )
    return [(row.id, row.target) for row in rows]
