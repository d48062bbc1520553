"""The field inspector's day in the API: today's route of a zone, and visits recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from datetime import UTC, date, datetime
from typing import Annotated

import orjson
import shapely
import strawberry
from sqlalchemy.orm import Session

from geo import geometry, inspections, layers, queries, targets
from geo.crs import Crs as GeoCrs
from geo.due import Priority as GeoPriority
from geo.routing import InspectionPlan as Plan
from geo.routing import (
    PlanKey,
    StoredPlan,
    links,
    plan_key,
    rest_of_day,
    reused_plan,
    solved_plan,
)
from geo.routing import Route as PlannedRoute
from geo.routing import RouteStop as PlannedStop
from geo.routing.access import MAX_INSPECTORS
from geo.routing.codec import plan_targets
from schema.flags import ResumptionInput
from schema.query_cost import LIST_SIZE
from schema.route_shape import route_shape
from schema.scalars import GeoJSON
from schema.types import (
    Crs,
    Ctx,
    Inspection,
    InspectionTarget,
    PatrolZone,
    row_of,
    target_node,
)

MAX_STOPS = 60  # a day's stops for one inspector: an 8-hour shift of 10-minute visits and rides


Priority = strawberry.enum(
    GeoPriority,
    description="URGENT: a red flag, an unfiled rental or out-of-province tenants; FOLLOW_UP: "
    "a yellow flag; ROUTINE: overdue for a routine check",
)


@strawberry.input(description="Where and when the inspector is, to re-plan the rest of the day")
class RestOfDayInput:
    position: GeoJSON = strawberry.field(description="A Point, in `crs`")
    crs: Crs | None = strawberry.field(
        default=GeoCrs.WGS84, description="Phone map SDKs in China report GCJ02"
    )
    at: datetime = strawberry.field(description="From when, on the plan's day")


def replanned(
    session: Session, stored: StoredPlan, shift_minutes: int, here: RestOfDayInput
) -> Plan:
    crs = here.crs or GeoCrs.WGS84
    position = geometry.parse_geojson(here.position, crs, ("Point",), "position")
    return rest_of_day(session.connection(), stored, shift_minutes, position, crs, here.at)


@strawberry.type
class NavigationLink:
    app: str = strawberry.field(description="AMAP or BAIDU")
    coordinate_type: str = strawberry.field(description="GCJ02 or BD09: the URLs' coordinates")
    marker_url: str
    navigation_url: str = strawberry.field(description="Riding directions from the last stop")


@strawberry.type
class RouteStop:
    stop: strawberry.Private[PlannedStop]
    previous: strawberry.Private[tuple[float, float]]
    done: strawberry.Private[bool]

    @strawberry.field(description="1, 2, 3 … in visiting order")
    def sequence(self) -> int:
        return self.stop.sequence

    @strawberry.field
    async def target(self, info: Ctx) -> InspectionTarget:
        due = self.stop.target
        return await target_node(info, due.kind, due.id)  # type: ignore[no-any-return]

    @strawberry.field(description="Why it is on today's list")
    def reason(self) -> str:
        return self.stop.target.reason

    @strawberry.field(description="How urgent the visit is: why it is kept when a shift is short")
    def priority(self) -> Priority:  # type: ignore[valid-type]
        return self.stop.target.priority

    @strawberry.field
    def planned_arrival(self) -> datetime:
        return self.stop.planned_arrival

    @strawberry.field(description="Inspected on the day; the plan keeps it in its place")
    def visited(self) -> bool:
        return self.done

    @strawberry.field(
        description="Open the leg in AMap (GCJ-02) or Baidu Maps (BD-09)", metadata={LIST_SIZE: 2}
    )
    def navigation(self) -> list[NavigationLink]:
        due = self.stop.target
        return [
            NavigationLink(
                app=link.app,
                coordinate_type=link.coordinate_type,
                marker_url=link.marker_url,
                navigation_url=link.navigation_url,
            )
            for link in links((due.lon, due.lat), due.name, self.previous, "")
        ]


@strawberry.type
class Route:
    route: strawberry.Private[PlannedRoute]
    visited: strawberry.Private[frozenset[str]]

    @strawberry.field(metadata={LIST_SIZE: MAX_STOPS})
    def stops(self) -> list[RouteStop]:
        # Each leg starts at the stop before, the first at the base (where the line starts).
        base = tuple(self.route.geometry.coords[0])
        froms = [base, *((stop.target.lon, stop.target.lat) for stop in self.route.stops)]
        return [
            RouteStop(stop=s, previous=f, done=s.target.global_id in self.visited)
            for s, f in zip(self.route.stops, froms, strict=False)
        ]

    @strawberry.field
    def distance_meters(self) -> float:
        return self.route.distance_m

    @strawberry.field
    def duration_minutes(self) -> float:
        return self.route.duration_min

    @strawberry.field(description="LineString from the base through every stop and back")
    async def geometry(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        crs = crs or GeoCrs.WGS84
        if crs is GeoCrs.WGS84:
            return shapely.geometry.mapping(self.route.geometry)
        return await info.context.run(queries.converted, self.route.geometry, crs)


@strawberry.type(description="The zone's day so far")
class InspectionProgress:
    due: int = strawberry.field(description="Targets due today: still to visit, and visited")
    visited: int = strawberry.field(description="Targets visited today")


@strawberry.type
class InspectionPlan:
    stored: strawberry.Private[StoredPlan]
    key: strawberry.Private[PlanKey]

    @property
    def plan(self) -> Plan:
        return self.stored.plan

    async def done(self, info: Ctx) -> list[tuple[int, str]]:
        """Today's inspections in the zone, read when a field asks for them."""
        return await info.context.run(inspections.visited, self.key.zone_id, self.key.day)

    @strawberry.field(
        description="When the plan was solved: the same on every pull while the targets due, "
        "their flags and places, the base and the roads are unchanged (visits do not re-plan)"
    )
    def planned_at(self) -> datetime:
        return self.stored.planned_at

    @strawberry.field
    async def zone(self, info: Ctx) -> PatrolZone:
        return PatrolZone(row=await row_of(info, layers.PATROL_ZONES, self.key.zone_id))

    @strawberry.field
    def date(self) -> date:
        return self.key.day

    @strawberry.field(description="ROAD_NETWORK or STRAIGHT_LINE: what distances were measured on")
    def distance_model(self) -> str:
        return self.stored.distance_model

    @strawberry.field(description="One per inspector", metadata={LIST_SIZE: MAX_INSPECTORS})
    def routes(self) -> list[Route]:
        if "routes" in self.stored.answer:  # cut from the stored plan (geo/routing/answer.py)
            return orjson.Fragment(self.stored.answer["routes"])  # type: ignore[return-value]
        return [Route(route=route, visited=self.stored.visited) for route in self.plan.routes]

    @strawberry.field(description="Visits recorded today in the zone, oldest first")
    async def visited(self, info: Ctx) -> list[Inspection]:
        done = await self.done(info)
        loads = (row_of(info, layers.INSPECTIONS, inspection) for inspection, _ in done)
        rows = await asyncio.gather(*loads)  # one statement for them all
        return [Inspection(row=row) for row in rows if row is not None]

    @strawberry.field
    async def progress(self, info: Ctx) -> InspectionProgress:
        # A plan keeps the stops visited since it was made; count each target once.
        targets = {target for _, target in await self.done(info)}
        remaining = sum(t.global_id not in targets for t in plan_targets(self.plan))
        return InspectionProgress(due=remaining + len(targets), visited=len(targets))

    @strawberry.field(description="Due today but not fitting in the shift, lowest priority first")
    async def unvisited(self, info: Ctx) -> list[InspectionTarget]:
        if "unvisited" in self.stored.answer:
            return orjson.Fragment(self.stored.answer["unvisited"])  # type: ignore[return-value]
        # Gathered, so the loader reads them in one statement rather than one each.
        unvisited = self.plan.unvisited
        return list(await asyncio.gather(*(target_node(info, t.kind, t.id) for t in unvisited)))


@strawberry.input
class RecordInspectionInput:
    idempotency_key: str = strawberry.field(
        description="Chosen by the client; the same key again returns the first result"
    )
    target_id: strawberry.ID
    at: datetime = strawberry.field(
        description="When the visit was made: at most FUGONG_MAX_CLOCK_SKEW_MINUTES (5) ahead"
        " of the server's clock"
    )
    location: GeoJSON = strawberry.field(description="A Point, in `crs`")
    crs: Crs | None = strawberry.field(
        default=GeoCrs.WGS84, description="Phone map SDKs in China report GCJ02"
    )
    findings: str
    gps_accuracy_meters: float | None = strawberry.field(
        default=None,
        description="The fix's accuracy as the phone reports it: needed, since a fix of unknown"
        " quality proves nothing (omitted: BAD_USER_INPUT)",
    )
    resumption: ResumptionInput | None = None

    def to_geo(self) -> inspections.Visit:
        crs = self.crs or GeoCrs.WGS84
        target = targets.parse_target(self.target_id)
        point = geometry.parse_geojson(self.location, crs, ("Point",), "location")
        report = None if self.resumption is None else self.resumption.to_geo()
        return inspections.Visit(
            self.idempotency_key, target, self.at, point, crs, self.findings,
            self.gps_accuracy_meters, report,
        )  # fmt: skip


@strawberry.type
class RouteQuery:
    @strawberry.field(description="Today's (or a date's) inspection routes of a patrol zone")
    async def inspection_route(
        self,
        info: Ctx,
        zone_id: strawberry.ID,
        date: date | None = None,
        inspectors: int | None = 1,
        shift_minutes: int | None = 480,
        rest_of_day_from: Annotated[
            RestOfDayInput | None,
            strawberry.argument(
                description="Re-plan what is still due from here and now to the base, within the "
                "shift; visited stops stay as they were. Not stored: the zone's plan stays",
            ),
        ] = None,
    ) -> InspectionPlan:
        context = info.context
        # None is the default; 0 is a number, and refused by plan_key like any other out of range.
        inspectors = 1 if inspectors is None else inspectors
        shift_minutes = 480 if shift_minutes is None else shift_minutes
        key = plan_key(zone_id, date, inspectors, shift_minutes, context.retention)
        # A plan reused is answered as cut from the stored one, unless re-planned from here.
        shape = route_shape(info) if rest_of_day_from is None else None
        read = functools.partial(reused_plan, shape=shape)
        stored = await context.read_else_write(read, solved_plan, context.caller, key)
        if rest_of_day_from is not None:
            plan = await context.run(replanned, stored, key.shift_minutes, rest_of_day_from)
            stored = dataclasses.replace(stored, stored=plan, planned_at=datetime.now(UTC))
        return InspectionPlan(stored=stored, key=key)


@strawberry.type
class InspectionMutation:
    @strawberry.mutation(description="A visit recorded in the field; safe to send again")
    async def record_inspection(self, info: Ctx, input: RecordInspectionInput) -> Inspection:
        visit, context = input.to_geo(), info.context
        inspection_id = await context.write(
            inspections.record, context.caller, visit, context.fence, context.thresholds
        )
        return Inspection(row=await row_of(info, layers.INSPECTIONS, inspection_id))
