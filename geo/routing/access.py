"""A zone's day plan as every door asks for it: the key checked, the zone in the caller's scope,
the stored plan reused while its inputs hold (any session: a replica will do), else solved and
stored (a transaction on the primary). GraphQL and the GPX/GeoJSON exports both call these,
so they answer the same plan under the same rules."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from geo import layers, scope, targets
from geo.days import today
from geo.errors import BadInput
from geo.retention import Retention
from geo.routing.answer import Shape
from geo.routing.stored import PlanKey, StoredPlan, reused, solved

MAX_INSPECTORS = 20
SHIFT_MINUTES = (30, 24 * 60)


def plan_key(
    zone_id: str, day: date | None, inspectors: int, shift_minutes: int, retention: Retention
) -> PlanKey:
    """The plan asked for by a zone's global id (PatrolZone:12), or BadInput; kept for reuse
    only for a day within the retention window."""
    zone = targets.parse(zone_id, ["PatrolZone"], "a patrol zone")[1]
    if not 1 <= inspectors <= MAX_INSPECTORS:
        raise BadInput(f"inspectors must be between 1 and {MAX_INSPECTORS}")
    if not SHIFT_MINUTES[0] <= shift_minutes <= SHIFT_MINUTES[1]:
        raise BadInput(f"shiftMinutes must be between {SHIFT_MINUTES[0]} and {SHIFT_MINUTES[1]}")
    day = day or today()
    return PlanKey(zone, day, inspectors, shift_minutes, keep=retention.storable(day))


# The plan is the zone's, the same for every caller; the check is per request.
def reused_plan(
    session: Session, caller: scope.Caller, key: PlanKey, shape: Shape | None = None
) -> StoredPlan | None:
    """With the answer cut to `shape` (answer.py) when the plan is reused."""
    scope.require_visit(session, caller, layers.PATROL_ZONES, key.zone_id)
    return reused(session.connection(), key, shape=shape)


def solved_plan(session: Session, caller: scope.Caller, key: PlanKey) -> StoredPlan:
    scope.require_visit(session, caller, layers.PATROL_ZONES, key.zone_id)
    return solved(session.connection(), key)
