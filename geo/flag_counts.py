"""Flag counts per area as of any day (each target's history: geo/flag_history.py).

A day is a day in Asia/Shanghai. Today (or no day) counts the stored flags; a past day counts
each target's last change before the next midnight, +08:00; a target without a change by then
is not counted that day. Both are read from tallies that triggers keep as flags change
(migrations/sql/flag_tally.sql): per area and colour, the stored flags, and per day the net
change of the history; a past day is the sum of its days so far.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    RowMapping,
    Select,
    Subquery,
    Text,
    bindparam,
    func,
    select,
)

from geo.days import cutoff
from geo.db import Executor
from geo.errors import BadInput, NotFound
from geo.flag_writes import SHAPES
from geo.models import FLAG_TALLY as TALLY
from geo.models import FLAG_TALLY_DAILY as TALLY_DAILY
from geo.models import Area, FlagColor, table_of
from geo.prepared import prepared
from geo.targets import FLAGGED, TargetKind

Day = date | ColumnElement[date]  # a day, or a parameter bound to one
AREA = table_of(Area)
ALL_KINDS = FLAGGED


class FlagCounts(NamedTuple):
    green: int
    yellow: int
    red: int
    total: int


class AreaFlagCounts(NamedTuple):
    area: RowMapping  # the area's columns, as geo.queries reads them (the counts ride along)
    green: int
    yellow: int
    red: int
    total: int


def past(day: date | None) -> date | None:
    """None to count the stored flags (no day, or today); a past day as it is."""
    return None if cutoff(day) is None else day


def tallied(kinds: Collection[TargetKind], day: Day | None) -> Select[Any]:
    """(area_id, color, n): the targets of these kinds per area and colour, by their stored
    flags (no day) or by the history up to the end of `day`."""
    if not kinds:
        raise BadInput("count the flags of at least one kind of target")
    names = [SHAPES[kind].table.name for kind in kinds]
    if day is None:
        tally = TALLY
        since: list[ColumnElement[bool]] = []
    else:
        tally = TALLY_DAILY
        since = [TALLY_DAILY.c.day <= day]
    return (
        select(tally.c.area_id, tally.c.color, func.sum(tally.c.n).label("n"))
        .where(tally.c.kind.in_(names), *since)
        .group_by(tally.c.area_id, tally.c.color)
    )


def _counts_below(roots: Select[Any], kinds: Collection[TargetKind], day: Day | None) -> Subquery:
    """(root_id, green, yellow, red, total) of the targets anywhere below each root area."""
    below = select(AREA.c.id, AREA.c.id.label("root_id")).where(AREA.c.id.in_(roots))
    below_cte = below.cte(recursive=True)
    below_cte = below_cte.union_all(
        select(AREA.c.id, below_cte.c.root_id).where(AREA.c.parent_id == below_cte.c.id)
    )
    per_area = tallied(kinds, day).subquery("per_area")
    counted = [
        func.sum(per_area.c.n).filter(per_area.c.color == color).label(color.value.lower())
        for color in (FlagColor.GREEN, FlagColor.YELLOW, FlagColor.RED)
    ]
    total = func.sum(per_area.c.n).label("total")
    return (
        select(below_cte.c.root_id, *counted, total)
        .join(per_area, per_area.c.area_id == below_cte.c.id)
        .group_by(below_cte.c.root_id)
        .subquery("counts")
    )


def flag_counts(
    session: Executor,
    area_code: str | None,
    day: date | None,
    kinds: Collection[TargetKind] = ALL_KINDS,
) -> list[AreaFlagCounts]:
    """Counts per area one level below `area_code` (default: the district's towns), in one
    statement; targets count under the child area whose subtree holds their area."""
    past_day = past(day)
    shape = (area_code is not None, past_day is not None, tuple(kinds))
    query = prepared(("flag counts", *shape), functools.partial(_counts_query, *shape))
    rows = session.execute(query, {"area_code": area_code, "day": past_day}).mappings().all()
    if not rows and area_code is not None:
        # Empty: an area without children, or no such area (asked only in this case).
        if session.execute(select(AREA.c.id).where(AREA.c.code == area_code)).first() is None:
            raise NotFound(f"no area has the code {area_code!r}; `areas` lists the codes")
    return [
        AreaFlagCounts(row, row["green"], row["yellow"], row["red"], row["total"]) for row in rows
    ]


def _counts_query(by_code: bool, dated: bool, kinds: tuple[TargetKind, ...]) -> Select[Any]:
    """flag_counts' statement for a shape of its arguments (geo.prepared): building it costs
    several times what PostgreSQL takes to answer it from the tallies. Binds area_code, day."""
    if by_code:
        parent = select(AREA.c.id).where(AREA.c.code == bindparam("area_code", type_=Text))
    else:
        parent = select(AREA.c.id).where(AREA.c.parent_id.is_(None))
    children = select(AREA.c.id).where(AREA.c.parent_id.in_(parent))
    day = bindparam("day", type_=Date) if dated else None
    counts = _counts_below(children, kinds, day)
    return (
        select(*area_columns(), *_zero_if_none(counts))
        .outerjoin(counts, counts.c.root_id == AREA.c.id)
        .where(AREA.c.parent_id.in_(parent))
        .order_by(AREA.c.code)
    )


def area_flag_counts(
    session: Executor,
    area_ids: Sequence[int],
    day: date | None,
    kinds: Collection[TargetKind] = ALL_KINDS,
) -> dict[int, FlagCounts]:
    """Counts of the targets anywhere inside each area, in one statement (for a DataLoader)."""
    past_day = past(day)
    roots = select(AREA.c.id).where(AREA.c.id.in_(list(area_ids)))
    counts = _counts_below(roots, kinds, past_day)
    found = {
        row.root_id: FlagCounts(row.green, row.yellow, row.red, row.total)
        for row in session.execute(select(counts.c.root_id, *_zero_if_none(counts)))
    }
    return {area_id: found.get(area_id, FlagCounts(0, 0, 0, 0)) for area_id in area_ids}


def area_columns() -> list[ColumnElement[Any]]:
    """Every column of area but its boundary, as geo.queries selects them."""
    return [c for c in AREA.c if not hasattr(c.type, "geometry_type")]


def _zero_if_none(counts: Subquery) -> list[ColumnElement[int]]:
    names = ("green", "yellow", "red", "total")
    return [func.coalesce(counts.c[name], 0).cast(Integer).label(name) for name in names]
