"""The daily duties in the API: health registration (一日一登记), quarantine occupancy, and the
daily briefing (每日汇总一张图表)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, date, datetime

import strawberry
from sqlalchemy.orm import Session

from geo import briefing, health, layers, occupancy, scope, targets
from geo.briefing import AreaDay
from geo.days import today
from geo.targets import TargetKind
from schema.inspections import InspectionProgress
from schema.query_cost import LIST_SIZE
from schema.types import (
    Area,
    Ctx,
    Enterprise,
    FlagCounts,
    InspectionTarget,
    row_of,
    target_node,
)

MAX_CHILD_AREAS = 40


@strawberry.input(description="一日一登记: the day's staff health as counts, never persons")
class HealthReportInput:
    on_site: int = strawberry.field(description="Staff on site")
    checked: int = strawberry.field(description="Staff whose temperature was checked")
    fever: int = strawberry.field(description="Staff with a fever")
    isolated: int = strawberry.field(description="Staff in isolation")
    out_of_province: int = strawberry.field(
        description="Staff from out of province under health management"
    )
    dormitory_disinfected: bool | None = strawberry.field(
        default=None, description="Whether the dormitory was disinfected; null without one"
    )

    def to_geo(self) -> health.HealthCounts:
        return health.HealthCounts(
            self.on_site, self.checked, self.fever, self.isolated, self.out_of_province,
            self.dormitory_disinfected,
        )  # fmt: skip


@strawberry.type(description="One version of an enterprise's daily health report")
class HealthReport:
    enterprise_id: strawberry.Private[int]
    date: date
    revision: int = strawberry.field(
        description="1 for the day's first report; a correction adds one"
    )
    on_site: int
    checked: int
    fever: int
    isolated: int
    out_of_province: int
    dormitory_disinfected: bool | None
    reported_at: datetime

    @strawberry.field
    async def enterprise(self, info: Ctx) -> Enterprise | None:
        row = await row_of(info, layers.ENTERPRISES, self.enterprise_id)
        return None if row is None else Enterprise(row=row)


def health_report(found: health.Recorded) -> HealthReport:
    return HealthReport(
        enterprise_id=found.enterprise_id,
        date=found.day,
        revision=found.revision,
        reported_at=found.reported_at,
        **asdict(found.counts),
    )


@strawberry.type(description="A target whose flag turned red on the day, from green or yellow")
class TurnedRed:
    found: strawberry.Private[briefing.TurnedRed]

    @strawberry.field
    async def target(self, info: Ctx) -> InspectionTarget:
        kind = TargetKind(self.found.kind)
        return await target_node(info, kind, self.found.id)  # type: ignore[no-any-return]

    @strawberry.field(description="The flag's reason at the end of the day")
    def reason(self) -> str:
        return self.found.reason


@strawberry.type(description="一日一登记 on the day: enterprises back at work are to report")
class HealthCompliance:
    expected: int = strawberry.field(description="Enterprises back at work (green or yellow)")
    reported: int = strawberry.field(description="Of those expected, the ones that reported")
    missing_ids: strawberry.Private[list[int]]
    fever: int = strawberry.field(description="Fever cases, over every report of the day")
    isolated: int
    out_of_province: int

    @strawberry.field(description="The expected enterprises that did not report, in id order")
    async def missing(self, info: Ctx) -> list[Enterprise]:
        # Gathered, so that the loader reads them in one statement.
        rows = await asyncio.gather(
            *(row_of(info, layers.ENTERPRISES, i) for i in self.missing_ids)
        )
        return [Enterprise(row=row) for row in rows if row is not None]


@strawberry.type
class QuarantineBeds:
    sites: int
    beds_total: int
    beds_occupied: int


@strawberry.type(
    description="An area's day. health, inspections and quarantine are for the officers of"
    " the area only (null for others)"
)
class AreaBriefing:
    day: strawberry.Private[AreaDay]

    @strawberry.field
    def area(self) -> Area:
        return Area(row=self.day.area)

    @strawberry.field(description="At the end of the day")
    def flag_counts(self) -> FlagCounts:
        return FlagCounts(**self.day.flags._asdict())

    @strawberry.field(description="At the end of the day before")
    def previous_flag_counts(self) -> FlagCounts:
        return FlagCounts(**self.day.previous._asdict())

    @strawberry.field(description="Turned red on the day, from green or yellow, with the reason")
    def new_reds(self) -> list[TurnedRed]:
        return [TurnedRed(found=found) for found in self.day.turned_red]

    @strawberry.field(description="Red the day before, green at the end of the day")
    def reds_turned_green(self) -> int:
        return self.day.red_to_green

    @strawberry.field(description="Enterprises back at work that did not update their board")
    def stale_signboards(self) -> int:
        return self.day.stale_signboards

    @strawberry.field
    def health(self) -> HealthCompliance | None:
        if self.day.restricted is None:
            return None
        found = self.day.restricted.health
        return HealthCompliance(
            expected=found.expected,
            reported=found.reported,
            missing_ids=[i for i, _ in found.missing],
            fever=found.fever,
            isolated=found.isolated,
            out_of_province=found.out_of_province,
        )

    @strawberry.field
    def inspections(self) -> InspectionProgress | None:
        found = self.day.restricted and self.day.restricted.inspections
        return None if not found else InspectionProgress(due=found.due, visited=found.visited)

    @strawberry.field
    def quarantine(self) -> QuarantineBeds | None:
        found = self.day.restricted and self.day.restricted.quarantine
        if not found:
            return None
        return QuarantineBeds(
            sites=found.sites, beds_total=found.beds_total, beds_occupied=found.beds_occupied
        )


@strawberry.type(description="每日汇总: the area's day and each of its children's")
class DailyBriefing:
    date: date
    area: AreaBriefing
    # The cost estimate's length: a district has its towns and streets, a town its villages.
    children: list[AreaBriefing] = strawberry.field(metadata={LIST_SIZE: MAX_CHILD_AREAS})


def enterprise_number(enterprise_id: str) -> int:
    return targets.parse_target(enterprise_id, [TargetKind.ENTERPRISE], "an enterprise").id


def quarantine_number(site_id: str) -> int:
    return targets.parse(site_id, [layers.QUARANTINE_SITES.type_name], "a quarantine site")[1]


@strawberry.type
class BriefingQuery:
    @strawberry.field(
        description="The day's briefing for the area and each area one level below it"
        " (date default: today in Asia/Shanghai)"
    )
    async def daily_briefing(
        self, info: Ctx, area_code: str, date: date | None = None
    ) -> DailyBriefing:
        found = await info.context.run(
            briefing.daily_briefing, info.context.caller, area_code, date or today()
        )
        return DailyBriefing(
            date=found.day,
            area=AreaBriefing(day=found.area),
            children=[AreaBriefing(day=child) for child in found.children],
        )

    @strawberry.field(
        description="An enterprise's health report of a day, every version, the first first;"
        " for the enterprise itself, and officers and inspectors of its area"
    )
    async def health_reports(
        self, info: Ctx, enterprise_id: strawberry.ID, date: date
    ) -> list[HealthReport]:
        number, caller = enterprise_number(enterprise_id), info.context.caller

        def read(session: Session) -> list[health.Recorded]:
            scope.require_enterprise_report(session, caller, number, by_inspectors=True)
            return health.revisions(session, number, date)

        return [health_report(found) for found in await info.context.run(read)]


@strawberry.type
class BriefingMutation:
    @strawberry.mutation(
        description="一日一登记: the day's health report of an enterprise; a later report of the"
        " same day corrects it, and both are kept. INCONSISTENT_COUNTS unless"
        " fever ≤ checked ≤ onSite ≤ staff total"
    )
    async def report_health(
        self,
        info: Ctx,
        enterprise_id: strawberry.ID,
        input: HealthReportInput,
        date: date | None = None,
    ) -> HealthReport:
        number, counts, context = enterprise_number(enterprise_id), input.to_geo(), info.context

        def work(session: Session) -> health.Recorded:
            scope.require_enterprise_report(session, context.caller, number, by_inspectors=True)
            return health.record_health(
                session, number, date or today(), counts, context.caller.username, _now(),
                context.thresholds,
            )  # fmt: skip

        return health_report(await context.write(work))

    @strawberry.mutation(description="The beds occupied at a quarantine site on a day")
    async def record_quarantine_occupancy(
        self, info: Ctx, site_id: strawberry.ID, beds_occupied: int, date: date | None = None
    ) -> bool:
        number, context = quarantine_number(site_id), info.context

        def work(session: Session) -> None:
            scope.require_change(session, context.caller, layers.QUARANTINE_SITES, number)
            occupancy.record_occupancy(
                session, number, date or today(), beds_occupied, context.caller.username, _now()
            )

        await context.write(work)
        return True


def _now() -> datetime:
    return datetime.now(UTC)
