"""GraphQL types of the map layers. Each wraps a database row and maps it explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from sqlalchemy import RowMapping
from strawberry.types import Info

from geo import layers, queries
from geo.crs import Crs as GeoCrs
from geo.flags import FlagColor as GeoFlagColor
from geo.layers import Layer
from geo.models import AreaLevel as GeoAreaLevel
from geo.models import ResumptionStatus as GeoResumptionStatus
from geo.privacy import mask_phone
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
    loader = info.context.loader(
        ("row", layer.type_name), lambda session, ids: queries.rows_by_id(session, layer, ids)
    )
    return await loader.load(row_id)  # type: ignore[no-any-return]


@strawberry.interface
class Node:
    row: strawberry.Private[RowMapping]
    layer: ClassVar[Layer]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(self.layer.type_name, self.row["id"])


@strawberry.interface
class Feature(Node):
    @strawberry.field(description="A GeoJSON geometry object")
    async def geometry(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, self.layer.geometry_column, self.row["id"], crs)

    @strawberry.field(description="The smallest administrative area that contains it")
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

    return strawberry.field(resolver=resolve, description=description)


def _flag(root: Node) -> FlagStatus:
    return FlagStatus(
        color=FlagColor(root.row["flag_color"]),
        reason=root.row["flag_reason"],
        since=root.row["flag_since"],
        overridden=False,
    )


def _distance(root: Node) -> float | None:
    return root.row.get("distance_m")


def distance_field() -> Any:
    return strawberry.field(resolver=_distance, description="Set when the query used `near`")


def flag_field() -> Any:
    return strawberry.field(resolver=_flag, description="Green, yellow or red, and why")
PERSONAL_PHONE = "Personal data: masked as 138****1234"


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
    contact_phone: str | None = column("contact_phone", PERSONAL_PHONE, mask_phone)
    resumption: ResumptionStatus = column("resumption")
    flag: FlagStatus = flag_field()
    distance_meters: float | None = distance_field()


@strawberry.type
class RentalProperty(Feature):
    layer = layers.RENTAL_PROPERTIES
    address: str = column("address", "Personal data: a home address")
    filed: bool = column("filed", "Registered (备案) with the authorities")
    landlord_phone: str | None = column("landlord_phone", PERSONAL_PHONE, mask_phone)
    distance_meters: float | None = distance_field()


@strawberry.type
class ConstructionSite(Feature):
    layer = layers.CONSTRUCTION_SITES
    name: str = column("name")
    kind: str = column("kind")
    key_project: bool = column("key_project")
    resumption: ResumptionStatus = column("resumption")
    flag: FlagStatus = flag_field()
    distance_meters: float | None = distance_field()

    @strawberry.field(description="The footprint's gate, where inspectors arrive")
    async def entrance(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, "entrance", self.row["id"], crs)


@strawberry.type
class PatrolZone(Feature):
    layer = layers.PATROL_ZONES
    name: str = column("name")
    team: str = column("team_name", "The task force that owns the zone")

    @strawberry.field(description="Point where its routes start and end")
    async def base(self, info: Ctx, crs: Crs | None = GeoCrs.WGS84) -> GeoJSON:
        return await geometry_of(info, self.layer, "base", self.row["id"], crs)


@strawberry.type
class QuarantineSite(Feature):
    layer = layers.QUARANTINE_SITES
    name: str = column("name")
    kind: str = column("kind")
    beds_total: int = column("beds_total")
    beds_occupied: int = column("beds_occupied")


NODE_TYPES: dict[str, type[Node]] = {
    t.layer.type_name: t
    for t in (Area, Enterprise, RentalProperty, ConstructionSite, PatrolZone, QuarantineSite)
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
    edges: list[Edge[N]]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Rows matching the filter, on every page")
    async def total_count(self) -> int:
        return await self.counter()
