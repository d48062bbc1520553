"""Signboards (每日更新一面牌子): each enterprise back at work updates its public board daily.

The days of updates are a date multirange per enterprise (consecutive days merge), so any past
day can be asked about. An enterprise's board is stale on a day when it flew a green or yellow
flag at the end of that day (back at work, fully or partly) and did not update its board.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import RowMapping, Select, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from geo import layers, scope
from geo.days import cutoff, today
from geo.db import Executor
from geo.errors import BadInput, NotFound
from geo.filters import area_subtree
from geo.flag_history import color_as_of
from geo.models import Enterprise, FlagColor, Signboard, table_of
from geo.queries import row_columns
from geo.scope import Caller, visible
from geo.targets import Target, TargetKind

ENTERPRISE = table_of(Enterprise)
SIGNBOARD = table_of(Signboard)
BACK_AT_WORK = (FlagColor.GREEN, FlagColor.YELLOW)


def confirm_signboard(session: Executor, caller: Caller, enterprise_id: int, day: date) -> None:
    """`record_signboard` for a caller, refused outside their scope (geo/scope.py)."""
    scope.require_target_change(session, caller, Target(TargetKind.ENTERPRISE, enterprise_id))
    record_signboard(session, enterprise_id, day)


def record_signboard(session: Executor, enterprise_id: int, day: date) -> None:
    """Record that the enterprise updated its board on `day`; recording it twice is harmless."""
    if day > today():
        raise BadInput(f"{day.isoformat()} is in the future: a board is updated on the day")
    updated = session.execute(
        update(ENTERPRISE)
        .where(ENTERPRISE.c.id == enterprise_id)
        .values(
            signboard_updated_on=func.greatest(
                func.coalesce(ENTERPRISE.c.signboard_updated_on, day), day
            )
        )
        .returning(ENTERPRISE.c.id)
    ).first()
    if updated is None:
        raise NotFound(f"no enterprise has the id Enterprise:{enterprise_id}")
    one_day = func.datemultirange(func.daterange(day, day, literal("[]")))
    statement = insert(SIGNBOARD).values(enterprise_id=enterprise_id, days=one_day)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SIGNBOARD.c.enterprise_id],
            set_={"days": SIGNBOARD.c.days.op("+")(statement.excluded.days)},
        )
    )


def stale_signboards(
    session: Executor,
    area_code: str | None,
    day: date | None,
    caller: Caller | None = None,
    first: int | None = None,
    after_id: int = 0,
) -> list[RowMapping]:
    """Enterprises in the area (and below; None: everywhere) back at work on `day` (None:
    today) whose board was not updated that day, in id order; a `caller` sees those they may
    see, first/after_id page them. Each row holds the enterprise's columns as geo.queries
    reads them for the caller, `day_color` (its flag at the end of the day) and `last_updated_on`
    (its last update on or before the day, or None)."""
    query = _stale(session, area_code, day or today(), caller)
    query = query.where(ENTERPRISE.c.id > after_id).order_by(ENTERPRISE.c.id).limit(first)
    return list(session.execute(query).mappings().all())


def stale_signboard_count(
    session: Executor, area_code: str | None, day: date | None, caller: Caller | None = None
) -> int:
    """How many enterprises stale_signboards lists, on every page."""
    stale = _stale(session, area_code, day or today(), caller).subquery()
    return session.execute(select(func.count()).select_from(stale)).scalar_one()


def _stale(
    session: Executor, area_code: str | None, day: date, caller: Caller | None
) -> Select[Any]:
    color = color_as_of(TargetKind.ENTERPRISE, cutoff(day))
    updated_by_day = SIGNBOARD.c.days.op("*")(
        func.datemultirange(func.daterange(None, day, literal("[]")))
    )
    last_updated = (
        select(func.upper(updated_by_day) - 1)
        .where(SIGNBOARD.c.enterprise_id == ENTERPRISE.c.id)
        .scalar_subquery()
    )
    updated_that_day = exists().where(
        SIGNBOARD.c.enterprise_id == ENTERPRISE.c.id, SIGNBOARD.c.days.op("@>")(day)
    )
    columns = row_columns(layers.ENTERPRISES, caller)
    query = select(*columns, color.label("day_color"), last_updated.label("last_updated_on")).where(
        color.in_(BACK_AT_WORK), ~updated_that_day
    )
    if area_code is not None:
        # The areas as a list, not a subquery: the planner then tests an enterprise's area
        # before its colour, which may cost a probe of the history.
        query = query.where(ENTERPRISE.c.area_id.in_(_subtree(session, area_code)))
    scope = None if caller is None else visible(layers.ENTERPRISES, caller)
    if scope is not None:
        query = query.where(scope)
    return query


def _subtree(session: Executor, area_code: str) -> list[int]:
    """The ids of the area and of every area below it."""
    return list(session.execute(area_subtree(session, area_code)).scalars())
