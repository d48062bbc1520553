"""Each flag's history read back: the changes of targets (for a DataLoader), one change (for
a live subscriber), and a target's colour as of any time. geo/flag_writes.py appends them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, case, false, or_, select

from geo import targets
from geo.db import Executor
from geo.flag_rules import FlagEvent
from geo.flag_writes import HISTORY, SHAPES
from geo.models import FlagColor, FlagSource
from geo.targets import FLAGGED, Target, TargetKind


def color_as_of(kind: TargetKind, before: datetime | None) -> ColumnElement[Any]:
    """A target's flag colour now, or as of `before`: NULL for one without a flag by then."""
    shape = SHAPES[kind]
    table = shape.table
    if before is None:
        return table.c.flag_color
    last = (
        select(HISTORY.c.to_color)
        .where(HISTORY.c[shape.history_fk] == table.c.id, HISTORY.c.at < before)
        .order_by(HISTORY.c.at.desc(), HISTORY.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # A colour that began before the cutoff held then (a new reason in the same colour keeps
    # its since): only the others cost a probe of ix_flag_change_*_at.
    return case((table.c.flag_since < before, table.c.flag_color), else_=last)


def flag_history(session: Executor, targets: Sequence[Target]) -> dict[Target, list[FlagEvent]]:
    """Each target's changes, oldest first, in one statement (for a DataLoader)."""
    wanted: list[ColumnElement[bool]] = [false()]
    for kind in FLAGGED:
        ids = [t.id for t in targets if t.kind is kind]
        if ids:
            wanted.append(HISTORY.c[SHAPES[kind].history_fk].in_(ids))
    query = select(HISTORY).where(or_(*wanted)).order_by(HISTORY.c.at, HISTORY.c.id)
    history: dict[Target, list[FlagEvent]] = {t: [] for t in targets}
    for row in session.execute(query).mappings():
        event = _event(row)
        history[event.target].append(event)
    return history


def flag_event(session: Executor, change_id: int) -> FlagEvent | None:
    row = session.execute(select(HISTORY).where(HISTORY.c.id == change_id)).mappings().first()
    return None if row is None else _event(row)


def _event(row: RowMapping) -> FlagEvent:
    return FlagEvent(
        row["id"],
        targets.of_row(row),
        None if row["from_color"] is None else FlagColor(row["from_color"]),
        FlagColor(row["to_color"]),
        row["reason"],
        row["at"],
        row["actor"],
        FlagSource(row["source"]),
    )
