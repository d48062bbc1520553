"""Quarantine occupancy over time: beds occupied per quarantine site per day, kept as history.
The latest day recorded is also the site's beds_occupied."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from geo.days import today
from geo.db import Executor
from geo.errors import BadInput, InconsistentCounts, NotFound
from geo.models import QuarantineOccupancy, QuarantineSite, table_of

SITE = table_of(QuarantineSite)
OCCUPANCY = table_of(QuarantineOccupancy)


def record_occupancy(
    session: Executor, site_id: int, day: date, beds_occupied: int, actor: str, at: datetime
) -> None:
    """Store the beds occupied on `day` (again: the later figure holds), in the caller's
    transaction."""
    if day > today():
        raise BadInput(f"{day.isoformat()} is in the future: occupancy is recorded on the day")
    beds_total = session.execute(
        select(SITE.c.beds_total).where(SITE.c.id == site_id).with_for_update()
    ).scalar_one_or_none()
    if beds_total is None:
        raise NotFound(f"no quarantine site has the id QuarantineSite:{site_id}")
    if not 0 <= beds_occupied <= beds_total:
        raise InconsistentCounts(
            f"bedsOccupied must be between 0 and the site's {beds_total} beds, not {beds_occupied}"
        )
    values = {"beds_occupied": beds_occupied, "recorded_at": at, "recorded_by": actor}
    statement = insert(OCCUPANCY).values(quarantine_site_id=site_id, day=day, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[OCCUPANCY.c.quarantine_site_id, OCCUPANCY.c.day], set_=values
        )
    )
    latest = session.execute(
        select(func.max(OCCUPANCY.c.day)).where(OCCUPANCY.c.quarantine_site_id == site_id)
    ).scalar_one()
    if day == latest:
        session.execute(
            update(SITE).where(SITE.c.id == site_id).values(beds_occupied=beds_occupied)
        )
