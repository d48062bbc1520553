"""Flags of enterprises and building sites: the stored state, and the only code that changes it.

Each change of colour, reason or hand-set state appends one row to flag_change (which the
database keeps append-only) and notifies channel `flag_changed`, delivered at commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    DateTime,
    Integer,
    RowMapping,
    Table,
    Text,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import update as sql_update

from geo import scope
from geo.db import Executor
from geo.errors import BadInput, NotFound
from geo.flag_rules import (
    DEFAULT_THRESHOLDS,
    Facts,
    FlagEvent,
    FlagState,
    FlagUpdate,
    ResumptionReport,
    Thresholds,
    assess,
    reported,
    same_facts,
)
from geo.models import (
    FlagChange,
    FlagColor,
    FlagSource,
    ResumptionStatus,
    table_of,
)
from geo.scope import Caller
from geo.targets import FLAGGED, KINDS, Target, TargetKind

# Re-exported: the GraphQL enums wrap these, and callers of the write path need the rest.
__all__ = [
    "FlagColor", "FlagEvent", "FlagSource", "FlagState", "FlagUpdate", "ResumptionReport",
    "Target", "TargetKind", "Thresholds",
]  # fmt: skip

RULES_ACTOR = "rules"
CHANNEL = "flag_changed"
MAX_REASON_CHARS = 500
HISTORY = table_of(FlagChange)


@dataclass(frozen=True)
class Shape:
    """Where a kind of target keeps the facts the rules read (its table: geo/targets.py)."""

    kind: TargetKind
    total: str
    returned: str
    people: str  # how reasons name them
    has_capacity: bool

    @property
    def table(self) -> Table:
        return KINDS[self.kind].table

    @property
    def history_fk(self) -> str:
        """Its column in flag_change."""
        return KINDS[self.kind].column


SHAPES = {
    TargetKind.ENTERPRISE: Shape(
        TargetKind.ENTERPRISE, "staff_total", "staff_returned", "staff", has_capacity=True
    ),
    TargetKind.CONSTRUCTION_SITE: Shape(
        TargetKind.CONSTRUCTION_SITE,
        "workers_total",
        "workers_returned",
        "workers",
        has_capacity=False,
    ),
}


def report_by(
    session: Executor,
    caller: Caller,
    target: Target,
    report: ResumptionReport,
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> FlagUpdate:
    """`apply_report` for an officer, refused outside their scope (geo/scope.py)."""
    scope.require_target_change(session, caller, target)
    return apply_report(session, target, report, caller.username, at, thresholds)


def override_by(
    session: Executor, caller: Caller, target: Target, color: FlagColor, reason: str, at: datetime
) -> FlagUpdate:
    """`override` for an officer, refused outside their scope."""
    scope.require_target_change(session, caller, target)
    return override(session, target, color, reason, caller.username, at)


def clear_override_by(
    session: Executor,
    caller: Caller,
    target: Target,
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> FlagUpdate:
    """`clear_override` for an officer, refused outside their scope."""
    scope.require_target_change(session, caller, target)
    return clear_override(session, target, caller.username, at, thresholds)


def apply_report(
    session: Executor,
    target: Target,
    report: ResumptionReport,
    actor: str,
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> FlagUpdate:
    """Store a status report and recompute the flag by the rules, in the caller's transaction.

    A flag set by hand stays while reports repeat the facts the rules read (status, returned,
    capacity and the set of open problems); the first report that changes any of them ends
    the override and the rules decide again. The report's `at` becomes resumption_reported_at;
    a report dated before the target's last flag change is taken as of that change, so the
    history stays in time order.
    """
    shape = SHAPES[target.kind]
    row = _locked(session, target)
    before = facts_of(shape, row)
    after = reported(before, report, shape.has_capacity)
    at, first = _when(session, target, at)
    state = _state(row)
    if not (state.overridden and same_facts(before, after)):
        state = _ruled(state, after, at, thresholds)
    values = {
        "resumption": after.status,
        shape.returned: after.returned,
        "problems": list(after.problems),
        "resumption_reported_at": at,
    }
    if shape.has_capacity:
        values["capacity_pct"] = after.capacity_pct
    return _store(session, target, row, state, values, actor, at, first, FlagSource.RULE)


def override(
    session: Executor, target: Target, color: FlagColor, reason: str, actor: str, at: datetime
) -> FlagUpdate:
    """Set the colour by hand with a reason; it holds until cleared or until a report changes
    the facts (see apply_report)."""
    reason = reason.strip()
    if not reason:
        raise BadInput("a flag set by hand needs a reason")
    if len(reason) > MAX_REASON_CHARS:
        raise BadInput(f"the reason is {len(reason)} characters; at most {MAX_REASON_CHARS}")
    row = _locked(session, target)
    at, first = _when(session, target, at)
    current = _state(row)
    since = current.since if color is current.color else at
    state = FlagState(color, reason, since, overridden=True)
    return _store(session, target, row, state, {}, actor, at, first, FlagSource.OVERRIDE)


def clear_override(
    session: Executor,
    target: Target,
    actor: str,
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> FlagUpdate:
    """Give the flag back to the rules, over the stored facts; a no-op when not overridden."""
    row = _locked(session, target)
    current = _state(row)
    if not current.overridden:
        return FlagUpdate(current, None)
    at, first = _when(session, target, at)
    state = _ruled(current, facts_of(SHAPES[target.kind], row), at, thresholds)
    return _store(session, target, row, state, {}, actor, at, first, FlagSource.OVERRIDE_CLEARED)


def facts_of(shape: Shape, row: RowMapping) -> Facts:
    capacity = row.get("capacity_pct")
    return Facts(
        status=ResumptionStatus(row["resumption"]),
        total=row[shape.total],
        returned=row[shape.returned],
        capacity_pct=None if capacity is None else float(capacity),
        problems=tuple(row["problems"]),
        people=shape.people,
    )


def _locked(session: Executor, target: Target) -> RowMapping:
    table = SHAPES[target.kind].table
    columns = [c for c in table.c if not hasattr(c.type, "geometry_type")]
    query = select(*columns).where(table.c.id == target.id).with_for_update()
    row = session.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no {target.kind.value} has the id {target}")
    return row


def _state(row: RowMapping) -> FlagState:
    return FlagState(
        FlagColor(row["flag_color"]), row["flag_reason"], row["flag_since"], row["flag_overridden"]
    )


def _ruled(current: FlagState, facts: Facts, at: datetime, thresholds: Thresholds) -> FlagState:
    ruled = assess(facts, thresholds)
    since = current.since if ruled.color is current.color else at
    return FlagState(ruled.color, ruled.reason, since, overridden=False)


def _when(session: Executor, target: Target, at: datetime) -> tuple[datetime, bool]:
    """When a change asked for at `at` takes effect: never before the target's last change, so
    that its history stays in time order; and whether it is the target's first change."""
    if at.tzinfo is None:
        raise BadInput("a time must carry its offset, e.g. 2020-02-27T10:00:00+08:00")
    fk = HISTORY.c[SHAPES[target.kind].history_fk]
    last = session.execute(select(func.max(HISTORY.c.at)).where(fk == target.id)).scalar()
    return (at if last is None or last <= at else last), last is None


def _store(
    session: Executor,
    target: Target,
    row: RowMapping,
    state: FlagState,
    values: dict[str, Any],
    actor: str,
    at: datetime,
    first: bool,
    source: FlagSource,
) -> FlagUpdate:
    """Write the facts and the flag; append and notify a change if there is one. A target's
    first change (a row added without a flag flies a default one) comes from no colour."""
    shape = SHAPES[target.kind]
    before = _state(row)
    if first:
        state = replace(state, since=at)
    changed = first or (state.color, state.reason, state.overridden) != (
        before.color, before.reason, before.overridden
    )  # fmt: skip
    if values or changed:
        flag = {
            "flag_color": state.color, "flag_reason": state.reason, "flag_since": state.since,
            "flag_overridden": state.overridden,
        }  # fmt: skip
        session.execute(
            sql_update(shape.table).where(shape.table.c.id == target.id).values(**values, **flag)
        )
    if not changed:
        return FlagUpdate(before, None)
    from_color = None if first else before.color
    change = {
        shape.history_fk: target.id, "from_color": from_color, "to_color": state.color,
        "reason": state.reason, "at": at, "actor": actor, "source": source,
    }  # fmt: skip
    change_id = session.execute(insert(HISTORY).values(change).returning(HISTORY.c.id)).scalar_one()
    event = FlagEvent(change_id, target, from_color, state.color, state.reason, at, actor, source)
    # Delivered at commit, never for a rolled-back change; the payload is built from the row.
    session.execute(select(func.fugong_notify_flag_change(change_id)))
    return FlagUpdate(state, event)


def reassess(
    connection: Executor,
    kind: TargetKind,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    actor: str = RULES_ACTOR,
    at: datetime | None = None,
    batch_rows: int = 10_000,
) -> int:
    """Apply the rules again to every flag of a kind not set by hand; the number changed.

    For rows written before flags existed (migration 0003) or without one (raw SQL), or after
    the thresholds changed; `fugong reassess` runs it after every migrate, and a second run
    changes nothing. A changed flag gets its history row at `at`; when None, a first flag is
    dated at the row's last report and a changed one now, after the history it follows. No
    notifications: a bulk re-assessment is not news to a live map.
    """
    shape = SHAPES[kind]
    table = shape.table
    facts = [table.c[n] for n in ("resumption", shape.total, shape.returned, "problems")]
    facts += [table.c.capacity_pct] if shape.has_capacity else []
    flag = [table.c.flag_color, table.c.flag_reason, table.c.flag_since]
    assessed = exists().where(HISTORY.c[shape.history_fk] == table.c.id).label("assessed")
    query = (
        select(table.c.id, table.c.resumption_reported_at, *facts, *flag, assessed)
        .where(table.c.flag_overridden.is_(False))
        .order_by(table.c.id)
        .limit(batch_rows)
    )
    now = datetime.now(UTC)
    changed, last_id = 0, 0
    while rows := connection.execute(query.where(table.c.id > last_id)).mappings().all():
        last_id = rows[-1]["id"]
        batch = []
        for row in rows:
            ruled = assess(facts_of(shape, row), thresholds)
            old = row["flag_color"] if row["assessed"] else None  # a first flag comes from none
            if old is not None and (ruled.color, ruled.reason) == (old, row["flag_reason"]):
                continue
            when = at or (row["resumption_reported_at"] if old is None else now)
            since = row["flag_since"] if old is ruled.color else when
            batch.append((row["id"], old, ruled.color, ruled.reason, since, when))
        if batch:
            _store_many(connection, shape, batch, actor)
        changed += len(batch)
    return changed


def reassess_all(connection: Executor, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int:
    """`reassess` every kind that flies a flag (what `fugong reassess` runs); the number changed."""
    return sum(reassess(connection, kind, thresholds) for kind in FLAGGED)


def _store_many(
    connection: Executor, shape: Shape, batch: list[tuple[Any, ...]], actor: str
) -> None:
    # Bound as arrays and unnested: one UPDATE and one INSERT per batch, not one per row.
    ids, old, new, reasons, sinces, ats = zip(*batch, strict=True)
    color_type = HISTORY.c.to_color.type
    arrays: dict[str, tuple[list[Any], ARRAY[Any]]] = {
        "id": (list(ids), ARRAY(Integer)),
        "from_color": ([None if c is None else c.value for c in old], ARRAY(Text)),
        "to_color": ([c.value for c in new], ARRAY(Text)),
        "reason": (list(reasons), ARRAY(Text)),
        "since": (list(sinces), ARRAY(DateTime(timezone=True))),
        "at": (list(ats), ARRAY(DateTime(timezone=True))),
    }
    rows = (
        func.unnest(*(cast(literal(v, t), t) for v, t in arrays.values()))
        .table_valued(*arrays)
        .render_derived()
    )
    table = shape.table
    connection.execute(
        sql_update(table)
        .where(table.c.id == rows.c.id)
        .values(
            flag_color=cast(rows.c.to_color, color_type),
            flag_reason=rows.c.reason,
            flag_since=rows.c.since,
        )
    )
    connection.execute(
        insert(HISTORY).from_select(
            [shape.history_fk, "from_color", "to_color", "reason", "at", "actor", "source"],
            select(
                rows.c.id,
                cast(rows.c.from_color, color_type),
                cast(rows.c.to_color, color_type),
                rows.c.reason,
                rows.c.at,
                literal(actor, Text),
                literal(FlagSource.RULE, HISTORY.c.source.type),
            ),
        )
    )
