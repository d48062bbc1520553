"""The read queries of the contract. Each resolver reads its arguments, calls geo, returns types."""

from __future__ import annotations

import enum
from typing import TypeVar

import orjson
import strawberry
from sqlalchemy import RowMapping

from geo import layers, queries, selection, targets
from geo.crs import Crs as GeoCrs
from geo.errors import BadInput
from geo.filters import Near, SpatialFilter
from geo.layers import Layer as GeoLayer
from schema.briefing import BriefingQuery
from schema.compiled import compiled_edges, edge_selection
from schema.context import Context
from schema.flags import FlagQuery
from schema.inspections import RouteQuery
from schema.scalars import GeoJSON
from schema.types import (
    NODE_TYPES,
    Area,
    AreaLevel,
    Connection,
    ConstructionSite,
    Crs,
    Ctx,
    Edge,
    Enterprise,
    FlagColor,
    Node,
    PageInfo,
    PatrolZone,
    QuarantineSite,
    RentalProperty,
    row_of,
)


@strawberry.enum
class Layer(enum.Enum):
    AREAS = "AREAS"
    ENTERPRISES = "ENTERPRISES"
    RENTAL_PROPERTIES = "RENTAL_PROPERTIES"
    CONSTRUCTION_SITES = "CONSTRUCTION_SITES"
    PATROL_ZONES = "PATROL_ZONES"
    QUARANTINE_SITES = "QUARANTINE_SITES"

    @property
    def data(self) -> GeoLayer:
        return getattr(layers, self.value)  # type: ignore[no-any-return]


@strawberry.input
class NearInput:
    point: GeoJSON
    radius_meters: float


@strawberry.input(
    name="SpatialFilter", description="All members are optional; they combine with AND"
)
class SpatialFilterInput:
    area_code: str | None = strawberry.field(
        default=None, description="An administrative area; its descendants count too"
    )
    bbox: list[float] | None = strawberry.field(
        default=None, description="[minLon, minLat, maxLon, maxLat]"
    )
    within: GeoJSON | None = strawberry.field(default=None, description="Polygon or MultiPolygon")
    intersects: GeoJSON | None = strawberry.field(default=None, description="Any geometry")
    near: NearInput | None = strawberry.field(
        default=None, description="Within radiusMeters of point; results nearest first"
    )
    crs: Crs | None = strawberry.field(
        default=GeoCrs.WGS84, description="The CRS of every coordinate given in this filter"
    )
    name: str | None = strawberry.field(
        default=None,
        description="A part of the name, anywhere in it, any case: 通宇 finds 通宇电缆",
    )

    def to_geo(self) -> SpatialFilter:
        near = None if self.near is None else Near(self.near.point, self.near.radius_meters)
        crs = self.crs or GeoCrs.WGS84
        return SpatialFilter(
            self.area_code, self.bbox, self.within, self.intersects, near, crs, self.name
        )


def _spatial(where: SpatialFilterInput | None) -> SpatialFilter | None:
    return None if where is None else where.to_geo()


def _flags(flag: list[FlagColor] | None) -> list[str] | None:
    return None if flag is None else [color.value for color in flag]


N = TypeVar("N", bound=Node)
DEFAULT_PAGE_SIZE = 100


async def _connection(
    info: Ctx,
    node_type: type[N],
    where: SpatialFilterInput | None,
    flag: list[FlagColor] | None,
    first: int | None,
    after: str | None,
) -> Connection[N]:
    context, layer = info.context, node_type.layer
    edge = edge_selection(info, layer)  # None: resolved field by field
    page = await read_page(context, layer, where, flag, first, after, edge)

    async def counter() -> int:
        return await count_rows(context, layer, where, flag)

    return Connection(
        page=[Edge(cursor=row["cursor"], node=node_type(row=row)) for row in page.rows]
        if edge is None
        else compiled_edges(page.rows),
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        counter=counter,
    )


async def read_page(
    context: Context,
    layer: GeoLayer,
    where: SpatialFilterInput | None,
    flag: list[FlagColor] | None,
    first: int | None,
    after: str | None,
    edge: selection.Fields | None,
) -> queries.Page:
    """A connection's page: rows, or with `edge` each row's edge as JSON (schema/compiled.py)."""
    limit = context.max_page_size
    first = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= first <= limit:
        raise BadInput(f"first must be between 0 and {limit}")
    caller, spatial, colors = context.caller, _spatial(where), _flags(flag)
    return await context.run(queries.page, caller, layer, spatial, colors, first, after, edge)


async def count_rows(
    context: Context,
    layer: GeoLayer,
    where: SpatialFilterInput | None,
    flag: list[FlagColor] | None,
) -> int:
    return await context.run(queries.count, context.caller, layer, _spatial(where), _flags(flag))


async def feature_collection(
    context: Context,
    layer: GeoLayer,
    where: SpatialFilterInput | None,
    crs: GeoCrs | None,
    limit: int | None,
) -> orjson.Fragment:
    """`features`' FeatureCollection as PostGIS wrote it."""
    most = context.max_features
    if limit is not None and not 0 <= limit <= most:
        raise BadInput(f"limit must be between 0 and {most}")
    # Without a limit, a map gets every feature or an error, never a silent cut.
    chosen = most + 1 if limit is None else limit
    collection = await context.run(
        queries.feature_collection,
        context.caller,
        layer,
        _spatial(where),
        crs or GeoCrs.WGS84,
        chosen,
    )
    if collection.features > most:
        raise BadInput(f"more than {most} features match; narrow the filter or pass a limit")
    return orjson.Fragment(collection.json)


async def _listing(info: Ctx, node_type: type[N], where: SpatialFilterInput | None) -> list[N]:
    rows = await info.context.run(
        queries.listing, info.context.caller, node_type.layer, _spatial(where)
    )
    return [node_type(row=row) for row in rows]


def _area_or_none(row: RowMapping | None) -> Area | None:
    return None if row is None else Area(row=row)


@strawberry.type
class Query(FlagQuery, RouteQuery, BriefingQuery):
    @strawberry.field(description="Any object by its id, such as Enterprise:42")
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        type_name, row_id = targets.parse(id, list(NODE_TYPES), "an object of this API")
        node_type = NODE_TYPES[type_name]
        row = await row_of(info, node_type.layer, row_id)
        return None if row is None else node_type(row=row)

    @strawberry.field
    async def area(self, info: Ctx, code: str) -> Area | None:
        return _area_or_none(await info.context.run(queries.area_by_code, code))

    @strawberry.field
    async def areas(
        self, info: Ctx, level: AreaLevel | None = None, parent_code: str | None = None
    ) -> list[Area]:
        rows = await info.context.run(queries.areas, level, parent_code)
        return [Area(row=row) for row in rows]

    @strawberry.field
    async def enterprises(
        self,
        info: Ctx,
        where: SpatialFilterInput | None = None,
        flag: list[FlagColor] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Enterprise]:
        return await _connection(info, Enterprise, where, flag, first, after)

    @strawberry.field
    async def rental_properties(
        self,
        info: Ctx,
        where: SpatialFilterInput | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[RentalProperty]:
        return await _connection(info, RentalProperty, where, None, first, after)

    @strawberry.field
    async def construction_sites(
        self,
        info: Ctx,
        where: SpatialFilterInput | None = None,
        flag: list[FlagColor] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[ConstructionSite]:
        return await _connection(info, ConstructionSite, where, flag, first, after)

    @strawberry.field
    async def patrol_zones(
        self, info: Ctx, where: SpatialFilterInput | None = None
    ) -> list[PatrolZone]:
        return await _listing(info, PatrolZone, where)

    @strawberry.field
    async def quarantine_sites(
        self, info: Ctx, where: SpatialFilterInput | None = None
    ) -> list[QuarantineSite]:
        return await _listing(info, QuarantineSite, where)

    @strawberry.field(
        description="A GeoJSON FeatureCollection for Leaflet, OpenLayers, MapLibre or GDAL as it is"
    )
    async def features(
        self,
        info: Ctx,
        layer: Layer,
        where: SpatialFilterInput | None = None,
        crs: Crs | None = GeoCrs.WGS84,
        limit: int | None = None,
    ) -> GeoJSON:
        fragment = await feature_collection(info.context, layer.data, where, crs, limit)
        return fragment  # type: ignore[return-value]  # JSON as built
