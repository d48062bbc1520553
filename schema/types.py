"""GraphQL types of the map layers. Each wraps a database row and maps it explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date as datetime_date
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args

import strawberry
from sqlalchemy import RowMapping
from strawberry.types import Info

from geo import flag_counts, flag_history, layers, queries, selection, targets
from geo.crs import Crs as GeoCrs
from geo.errors import Forbidden
from geo.flag_rules import FlagEvent, FlagState
from geo.flag_writes import FlagColor as GeoFlagColor
from geo.layers import Layer
from geo.models import AreaLevel as GeoAreaLevel
from geo.models import FlagSource as GeoFlagSource
from geo.models import ResumptionStatus as GeoResumptionStatus
from geo.privacy import Disclosure, Personal, disclosure, shown
from geo.targets import Target, TargetKind
from schema.compiled import SQL, CompiledEdges
from schema.context import Context
from schema.scalars import GeoJSON

Crs = strawberry.enum(GeoCrs, name="Crs")
AreaLevel = strawberry.enum(GeoAreaLevel, name="AreaLevel")
ResumptionStatus = strawberry.enum(GeoResumptionStatus, name="ResumptionStatus")
FlagColor = strawberry.enum(GeoFlagColor, name="FlagColor")


Ctx = Info[Context, None]


def global_id(type_name: str, row_id: int) -> strawberry.ID:
    return strawberry.ID(f"{type_name}:{row_id}")


async def geometry_of(info: Ctx, layer: Layer, column: str, row_id: int, crs: GeoCrs | None) -> Any:
    crs = crs or GeoCrs.WGS84
    loader = info.context.loader(
        ("geometry", layer.type_name, column, crs),
        lambda session, ids: queries.geometries(session, layer, column, crs, ids),
    )
    return await loader.load(row_id)


async def row_of(info: Ctx, layer: Layer, row_id: int) -> RowMapping | None:
    """The row, if it exists and the caller may see it."""
    caller = info.context.caller
    loader = info.context.loader(
        ("row", layer.type_name),
        lambda session, ids: queries.rows_by_id(session, caller, layer, ids),
    )
    return await loader.load(row_id)  # type: ignore[no-any-return]


@strawberry.interface
class Node:
    row: strawberry.Private[RowMapping]
    layer: ClassVar[Layer]

    @strawberry.field(metadata={SQL: selection.NodeId()})
    def id(self) -> strawberry.ID:
        return global_id(self.layer.type_name, self.row["id"])


@strawberry.interface
class Feature(Node):
    @strawberry.field(description="A GeoJSON geometry object", metadata={SQL: selection.Geometry()})
    async def geometry(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, self.layer.geometry_column, self.row["id"], crs)

    @strawberry.field(
        description="The smallest administrative area that contains it",
        metadata={SQL: selection.Related(layers.AREAS, "area_id")},
    )
    async def area(self, info: Ctx) -> Area | None:
        area_id = self.row["area_id"]
        row = None if area_id is None else await row_of(info, layers.AREAS, area_id)
        return None if row is None else Area(row=row)


@strawberry.type
class FlagCounts:
    green: int
    yellow: int
    red: int
    total: int


@strawberry.type
class FlagStatus:
    color: FlagColor
    reason: str
    since: datetime
    overridden: bool


def column(
    name: str, description: str | None = None, convert: Callable[[Any], Any] | None = None
) -> Any:
    """A field read straight from the row's column `name`; its type is the annotation."""

    def resolve(root: Node) -> Any:
        value = root.row[name]
        return value if convert is None or value is None else convert(value)

    return strawberry.field(
        resolver=resolve, description=description, metadata={SQL: selection.Column(name)}
    )


def personal(name: str, kind: Personal, description: str) -> Any:
    """A field of personal data: shown, masked or hidden by the caller's role; audited if shown."""

    def resolve(root: Node, info: Ctx) -> str | None:
        record = global_id(root.layer.type_name, root.row["id"])
        return disclosed(info, record, kind, root.row[name], root.row["own"])

    return strawberry.field(resolver=resolve, description=description)


def disclosed(info: Ctx, record: str, kind: Personal, value: str | None, own: bool) -> str | None:
    """`value` of `record` as the caller may see it (geo/privacy.py; `own`: whether the record
    is the caller's, geo.scope.own); a full read is audited."""
    context = info.context
    if value is not None and disclosure(context.caller, kind, own) is Disclosure.FULL:
        context.personal_reads.append((record, kind.value))
    return shown(context.caller, kind, value, own)


# FlagStatus's fields and the columns of a flagged row they read.
FLAG_COLUMNS = {
    "color": "flag_color",
    "reason": "flag_reason",
    "since": "flag_since",
    "overridden": "flag_overridden",
}


def _flag(root: Node) -> FlagStatus:
    values = {field: root.row[column] for field, column in FLAG_COLUMNS.items()}
    return FlagStatus(**{**values, "color": FlagColor(values["color"])})


def flag_status(state: FlagState) -> FlagStatus:
    return FlagStatus(
        color=state.color, reason=state.reason, since=state.since, overridden=state.overridden
    )


async def _flag_history(root: Node, info: Ctx) -> list[FlagChange]:
    loader = info.context.loader(("flag-history",), flag_history.flag_history, default=[])
    target = Target(TargetKind(root.layer.type_name), root.row["id"])
    return [FlagChange(event=event) for event in await loader.load(target)]


def flag_history_field() -> Any:
    return strawberry.field(resolver=_flag_history, description="Its flag's changes, oldest first")


def _distance(root: Node) -> float | None:
    return root.row.get("distance_m")


def distance_field() -> Any:
    return strawberry.field(
        resolver=_distance,
        description="Set when the query used `near`",
        metadata={SQL: selection.Distance()},
    )


def flag_field() -> Any:
    columns = tuple((field, selection.Column(column)) for field, column in FLAG_COLUMNS.items())
    return strawberry.field(
        resolver=_flag,
        description="Green, yellow or red, and why",
        metadata={SQL: selection.Nested(columns)},
    )


PERSONAL_PHONE = "Personal data: in full for the town officer, masked (138****1234) otherwise"


@strawberry.type
class Area(Node):
    layer = layers.AREAS
    code: str = column("code", "Administrative division code, e.g. 350112 for Changle")
    name: str = column("name", "Chinese name, e.g. 金峰镇")
    name_pinyin: str = column("name_pinyin")
    level: AreaLevel = column("level")
    synthetic: bool = column("synthetic", "True where the boundary is made up (the demo data)")

    @strawberry.field
    async def parent(self, info: Ctx) -> Area | None:
        parent_id = self.row["parent_id"]
        row = None if parent_id is None else await row_of(info, layers.AREAS, parent_id)
        return None if row is None else Area(row=row)

    @strawberry.field
    async def children(self, info: Ctx) -> list[Area]:
        loader = info.context.loader(("children",), queries.area_children, default=[])
        return [Area(row=row) for row in await loader.load(self.row["id"])]

    @strawberry.field(description="Flags of the enterprises and sites inside it, as of a date")
    async def flag_counts(self, info: Ctx, date: datetime_date | None = None) -> FlagCounts:
        loader = info.context.loader(
            ("area-flag-counts", date),
            lambda session, ids: flag_counts.area_flag_counts(session, ids, date),
        )
        counts = await loader.load(self.row["id"])
        return FlagCounts(
            green=counts.green, yellow=counts.yellow, red=counts.red, total=counts.total
        )

    @strawberry.field(description="The boundary; simplifyMeters thins it for small-scale maps")
    async def geometry(
        self, info: Ctx, crs: Crs | None = GeoCrs.WGS84, simplify_meters: float | None = None
    ) -> GeoJSON:
        crs = crs or GeoCrs.WGS84
        loader = info.context.loader(
            ("area-geometry", crs, simplify_meters),
            lambda session, ids: queries.geometries(
                session, layers.AREAS, "boundary", crs, ids, simplify_meters
            ),
        )
        return await loader.load(self.row["id"])


@strawberry.type
class Enterprise(Feature):
    layer = layers.ENTERPRISES
    name: str = column("name")
    credit_code: str | None = column(
        "credit_code", "Unified social credit code, 18 characters, checksum-valid"
    )
    category: str = column("category", convert=lambda category: category.value)
    staff_total: int = column("staff_total")
    staff_returned: int = column("staff_returned")
    capacity_pct: float | None = column("capacity_pct", convert=float)
    problems: list[str] = column("problems", "Open problems")
    contact_phone: str | None = personal("contact_phone", Personal.CONTACT_PHONE, PERSONAL_PHONE)
    resumption: ResumptionStatus = column("resumption")
    flag: FlagStatus = flag_field()
    flag_history: list[FlagChange] = flag_history_field()
    signboard_updated_on: datetime_date | None = column(
        "signboard_updated_on", "The last day its public signboard (挂牌公示) was updated"
    )
    distance_meters: float | None = distance_field()


@strawberry.type
class RentalProperty(Feature):
    layer = layers.RENTAL_PROPERTIES
    address: str = personal(
        "address", Personal.RENTAL_ADDRESS, "Personal data: a home address (masked for some roles)"
    )
    filed: bool = column("filed", "Registered (备案) with the authorities")
    tenants_total: int = column("tenants_total")
    landlord_phone: str | None = personal("landlord_phone", Personal.LANDLORD_PHONE, PERSONAL_PHONE)
    distance_meters: float | None = distance_field()


@strawberry.type
class ConstructionSite(Feature):
    layer = layers.CONSTRUCTION_SITES
    name: str = column("name")
    kind: str = column("kind")
    key_project: bool = column("key_project")
    workers_total: int = column("workers_total")
    workers_returned: int = column("workers_returned")
    resumption: ResumptionStatus = column("resumption")
    problems: list[str] = column("problems", "Open problems")
    flag: FlagStatus = flag_field()
    flag_history: list[FlagChange] = flag_history_field()
    distance_meters: float | None = distance_field()

    @strawberry.field(
        description="The footprint's gate, where inspectors arrive",
        metadata={SQL: selection.Geometry("entrance")},
    )
    async def entrance(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, "entrance", self.row["id"], crs)


@strawberry.type
class PatrolZone(Feature):
    layer = layers.PATROL_ZONES
    name: str = column("name")
    team: str = column("team_name", "The task force that owns the zone")

    @strawberry.field(
        description="Point where its routes start and end",
        metadata={SQL: selection.Geometry("base")},
    )
    async def base(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, "base", self.row["id"], crs)


@strawberry.type
class QuarantineSite(Feature):
    layer = layers.QUARANTINE_SITES
    name: str = column("name")
    kind: str = column("kind")
    beds_total: int = column("beds_total")
    beds_occupied: int = column("beds_occupied")


@strawberry.type(description="A visit recorded in the field")
class Inspection(Node):
    layer = layers.INSPECTIONS
    at: datetime = column("at")
    findings: str = column("findings")
    distance_meters: float = column("distance_m", "How far from the target it was recorded")

    @strawberry.field
    async def target(self, info: Ctx) -> InspectionTarget:
        target = targets.of_row(self.row)
        return await target_node(info, target.kind, target.id)  # type: ignore[no-any-return]

    @strawberry.field(description="Where it was recorded (WGS84)")
    async def geometry(self, info: Ctx) -> GeoJSON:
        return await geometry_of(info, self.layer, "geom", self.row["id"], GeoCrs.WGS84)


InspectionTarget = Annotated[
    Enterprise | RentalProperty | ConstructionSite,
    strawberry.union("InspectionTarget", description="Targets that an inspector visits"),
]
# By geo.targets.TargetKind value: the union's members, so a new kind is added in one place.
TARGET_TYPES = {t.layer.type_name: t for t in get_args(get_args(InspectionTarget)[0])}
FlagSource = strawberry.enum(GeoFlagSource, name="FlagSource")


async def target_node(info: Ctx, kind: TargetKind, target_id: int) -> Any:
    """An inspection target as its GraphQL type; FORBIDDEN if the caller may not see it."""
    node_type = TARGET_TYPES[kind.value]
    row = await row_of(info, node_type.layer, target_id)
    if row is None:
        raise Forbidden(f"{kind.value}:{target_id} is outside your scope")
    return node_type(row=row)


@strawberry.type(description="One change of a flag; history is never rewritten")
class FlagChange:
    event: strawberry.Private[FlagEvent]

    @strawberry.field
    async def target(self, info: Ctx) -> InspectionTarget:
        target = self.event.target
        return await target_node(info, target.kind, target.id)  # type: ignore[no-any-return]

    @strawberry.field(name="from", description="The colour before; null for a first flag")
    def from_color(self) -> FlagColor | None:
        return self.event.from_color

    @strawberry.field(name="to")
    def to_color(self) -> FlagColor:
        return self.event.to_color

    @strawberry.field
    def at(self) -> datetime:
        return self.event.at

    @strawberry.field
    def reason(self) -> str:
        return self.event.reason

    @strawberry.field(description="The rules, or a hand")
    def source(self) -> FlagSource:
        return self.event.source

    @strawberry.field(
        description="Who made it: the account that sent the report, or set or cleared the flag"
        " by hand. Shown to the officers of its town and of the district (audited), null to"
        " others"
    )
    async def actor(self, info: Ctx) -> str | None:
        # As any field of the target: the policy counts on whether the target is the caller's.
        target: Node = await self.target(info)  # type: ignore[assignment]
        record = global_id(target.layer.type_name, target.row["id"])
        return disclosed(info, record, Personal.FLAG_ACTOR, self.event.actor, target.row["own"])


NODE_TYPES: dict[str, type[Node]] = {
    t.layer.type_name: t
    for t in (  # Enterprise first: errors show its ids as the example
        Enterprise,
        Area,
        RentalProperty,
        ConstructionSite,
        PatrolZone,
        QuarantineSite,
        Inspection,
    )
}

N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    page: strawberry.Private[list[Edge[N]] | CompiledEdges]  # compiled: built by PostgreSQL
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def edges(self) -> list[Edge[N]]:
        return self.page.as_list() if isinstance(self.page, CompiledEdges) else self.page

    @strawberry.field(description="Rows matching the filter, on every page")
    async def total_count(self) -> int:
        return await self.counter()
