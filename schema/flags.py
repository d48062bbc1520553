"""Flags in the API: counts per area as of a date, stale signboards, and the flag mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import strawberry
from sqlalchemy import RowMapping

from geo import days, flag_counts, flag_writes, signboards, targets
from geo.errors import BadInput
from geo.flag_rules import ResumptionReport
from geo.targets import FLAGGED, Target, TargetKind
from schema.context import Context
from schema.types import (
    Area,
    Ctx,
    Enterprise,
    FlagColor,
    FlagCounts,
    FlagStatus,
    PageInfo,
    ResumptionStatus,
    flag_status,
)


@strawberry.type
class AreaFlagCounts:
    area: Area
    counts: FlagCounts


@strawberry.type(description="An enterprise whose signboard is stale, and since when")
class StaleSignboardEdge:
    cursor: str
    node: Enterprise
    last_updated_on: date | None = strawberry.field(
        description="Its last update on or before the day asked about; null: never updated"
    )
    days_stale: int | None = strawberry.field(
        description="Days from that update to the day asked about; null: never updated"
    )


@strawberry.type(description="A page of enterprises with stale signboards, in id order")
class StaleSignboardConnection:
    edges: list[StaleSignboardEdge]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Enterprises with stale signboards, on every page")
    async def total_count(self) -> int:
        return await self.counter()


@strawberry.input
class ResumptionInput:
    status: ResumptionStatus
    staff_returned: int | None = strawberry.field(
        default=None, description="Staff (of a site: workers) back at work; omitted: unchanged"
    )
    capacity_pct: float | None = None
    problems: list[str] | None = strawberry.field(
        default=None, description="Open problems; an empty list clears them, omitted: unchanged"
    )

    def to_geo(self) -> ResumptionReport:
        return ResumptionReport(self.status, self.staff_returned, self.capacity_pct, self.problems)


async def read_flag_counts(
    context: Context, area_code: str | None, day: date | None
) -> list[flag_counts.AreaFlagCounts]:
    # Counts are public (DOMAIN.md): every caller gets the same answer.
    return await context.run(flag_counts.flag_counts, area_code, day)


def flag_target(target_id: str) -> Target:
    return targets.parse_target(target_id, FLAGGED, "an enterprise or construction site")


@strawberry.type
class FlagQuery:
    @strawberry.field(
        description="Flag counts per area one level below areaCode (default: the district's"
        " towns), as of the end of `date` in Asia/Shanghai (default: now)"
    )
    async def flag_counts(
        self, info: Ctx, area_code: str | None = None, date: date | None = None
    ) -> list[AreaFlagCounts]:
        rows = await read_flag_counts(info.context, area_code, date)
        return [
            AreaFlagCounts(
                area=Area(row=row.area),
                counts=FlagCounts(green=row.green, yellow=row.yellow, red=row.red, total=row.total),
            )
            for row in rows
        ]

    @strawberry.field(
        description="Enterprises back at work whose signboard was not updated on `date`"
        " (default: today), in the area and below, in id order"
    )
    async def stale_signboards(
        self,
        info: Ctx,
        area_code: str | None = None,
        date: date | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> StaleSignboardConnection:
        most = info.context.max_page_size
        first = 100 if first is None else first
        if not 0 <= first <= most:
            raise BadInput(f"first must be between 0 and {most}")
        after_id = 0 if after is None else _id_cursor(after)
        day = date or days.today()
        caller = info.context.caller
        rows = await info.context.run(
            signboards.stale_signboards, area_code, day, caller, first + 1, after_id
        )

        async def counter() -> int:
            return await info.context.run(signboards.stale_signboard_count, area_code, day, caller)

        edges = [_stale_edge(row, day) for row in rows[:first]]
        end = edges[-1].cursor if edges else None
        page = PageInfo(has_next_page=len(rows) > first, end_cursor=end)
        return StaleSignboardConnection(edges=edges, page_info=page, counter=counter)


def _stale_edge(row: RowMapping, day: date) -> StaleSignboardEdge:
    updated = row["last_updated_on"]
    return StaleSignboardEdge(
        cursor=str(row["id"]),
        node=Enterprise(row=row),
        last_updated_on=updated,
        days_stale=None if updated is None else (day - updated).days,
    )


def _id_cursor(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit()):
        raise BadInput(f"cursor {cursor!r} is not one this API gave out")
    return int(cursor)


def _now() -> datetime:
    return datetime.now(UTC)


@strawberry.type
class FlagMutation:
    @strawberry.mutation(
        description="A status report: stores the facts and recomputes the flag by the rules"
    )
    async def update_resumption(
        self, info: Ctx, target_id: strawberry.ID, input: ResumptionInput
    ) -> FlagStatus:
        target, report, context = flag_target(target_id), input.to_geo(), info.context
        update = await context.write(
            flag_writes.report_by, context.caller, target, report, _now(), context.thresholds
        )
        return flag_status(update.state)

    @strawberry.mutation(
        description="Set a flag by hand, with a reason; it holds until clearFlagOverride, or"
        " until a status report changes the facts"
    )
    async def override_flag(
        self, info: Ctx, target_id: strawberry.ID, color: FlagColor, reason: str
    ) -> FlagStatus:
        target, context = flag_target(target_id), info.context
        update = await context.write(
            flag_writes.override_by, context.caller, target, color, reason, _now()
        )
        return flag_status(update.state)

    @strawberry.mutation(description="Give a flag set by hand back to the rules")
    async def clear_flag_override(self, info: Ctx, target_id: strawberry.ID) -> FlagStatus:
        target, context = flag_target(target_id), info.context
        update = await context.write(
            flag_writes.clear_override_by, context.caller, target, _now(), context.thresholds
        )
        return flag_status(update.state)

    @strawberry.mutation(description="An enterprise updated its public signboard (挂牌公示)")
    async def record_signboard(
        self, info: Ctx, enterprise_id: strawberry.ID, date: date | None = None
    ) -> bool:
        target = targets.parse_target(enterprise_id, [TargetKind.ENTERPRISE], "an enterprise")
        context, day = info.context, date or days.today()
        await context.write(signboards.confirm_signboard, context.caller, target.id, day)
        return True
