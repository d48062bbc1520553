"""The map layers as OGC API – Features collections: their properties and queryables, and pages
of GeoJSON Features built by PostgreSQL under the caller's scope (geo.queries, as GraphQL's
lists), with personal data shown as geo.privacy decides and noted for the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    func,
    null,
    select,
)
from sqlalchemy.orm import Session

from geo import layers, queries, selection
from geo.crs import Crs, as_geojson
from geo.layers import Layer
from geo.models import Area
from geo.privacy import COLUMNS, Disclosure, Personal, disclosure, held_by, revealed
from geo.scope import Caller, ownership

AREA_CODE = "areaCode"  # queryable: the area and every area below it, as SpatialFilter.areaCode
OWN = "_own"  # read with the feature, for the masking, and taken out before it is sent


@dataclass(frozen=True)
class Frame:
    """A CRS as OGC API names them: EPSG:4326 and EPSG:4490 put latitude first; CRS84 and
    EPSG:3857 put x (longitude, easting) first."""

    crs: Crs = Crs.WGS84
    lat_lon: bool = False


@dataclass(frozen=True)
class Collection:
    layer: Layer
    title: str
    description: str
    extra: dict[str, ColumnElement[Any]] = field(default_factory=dict)  # beside layer.public
    time: str | None = None  # the property `datetime` filters on

    @property
    def id(self) -> str:
        return self.layer.plural

    @property
    def properties(self) -> dict[str, ColumnElement[Any]]:
        """What every feature says of itself, personal data aside: each is queryable."""
        return {**self.layer.public, **self.extra}

    @property
    def personal(self) -> list[Personal]:
        return held_by(self.layer.type_name)


def _area_code(layer: Layer) -> ColumnElement[str]:
    """The code of the smallest area the row lies in, looked up per row in the same statement."""
    area = Area.__table__
    return select(area.c.code).where(area.c.id == layer.table.c.area_id).scalar_subquery()


def _collections() -> dict[str, Collection]:
    enterprise, rental, site = (
        layers.ENTERPRISES.table,
        layers.RENTAL_PROPERTIES.table,
        layers.CONSTRUCTION_SITES.table,
    )
    found = [
        Collection(
            layers.AREAS,
            "Administrative areas",
            "The district, its towns and streets, and their villages (made-up boundaries in the"
            " demo data)",
        ),
        Collection(
            layers.ENTERPRISES,
            "Enterprises",
            "Enterprises with their flag: green back at work, yellow partly, red not yet",
            {AREA_CODE: _area_code(layers.ENTERPRISES), "flagSince": enterprise.c.flag_since},
            "flagSince",
        ),
        Collection(
            layers.RENTAL_PROPERTIES,
            "Rental properties",
            "Rented homes, filed (备案) or not, and their tenants",
            {
                AREA_CODE: _area_code(layers.RENTAL_PROPERTIES),
                "lastInspectedAt": rental.c.last_inspected_at,
            },
            "lastInspectedAt",
        ),
        Collection(
            layers.CONSTRUCTION_SITES,
            "Construction sites",
            "Building sites and key projects, by footprint, with their flag",
            {AREA_CODE: _area_code(layers.CONSTRUCTION_SITES), "flagSince": site.c.flag_since},
            "flagSince",
        ),
        Collection(
            layers.PATROL_ZONES,
            "Patrol zones",
            "The areas (片) that inspectors patrol, and the teams that own them",
            {AREA_CODE: _area_code(layers.PATROL_ZONES)},
        ),
        Collection(
            layers.QUARANTINE_SITES,
            "Quarantine sites",
            "Temporary quarantine sites and their beds",
            {AREA_CODE: _area_code(layers.QUARANTINE_SITES)},
        ),
    ]
    return {collection.id: collection for collection in found}


COLLECTIONS = _collections()


def json_schema(expression: ColumnElement[Any]) -> dict[str, Any]:
    """The JSON Schema of the values PostgreSQL writes for `expression`."""
    kind = expression.type
    if isinstance(kind, Enum) and kind.enum_class is not None:
        return {"type": "string", "enum": [member.value for member in kind.enum_class]}
    if isinstance(kind, Enum):
        return {"type": "string", "enum": list(kind.enums)}
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, Integer):
        return {"type": "integer"}
    if isinstance(kind, Numeric | Float):
        return {"type": "number"}
    if isinstance(kind, DateTime):
        return {"type": "string", "format": "date-time"}
    return {"type": "string"}


@dataclass(frozen=True)
class Items:
    features: bytes  # a JSON array of GeoJSON Features, as PostgreSQL wrote it (or re-masked)
    returned: int
    matched: int
    next_cursor: str | None
    reads: list[tuple[str, str]]  # full reads of personal data, to audit before answering


def items(
    session: Session,
    caller: Caller,
    collection: Collection,
    frame: Frame,
    clauses: Sequence[ColumnElement[bool]],
    limit: int,
    cursor: str | None,
) -> Items:
    """A page of features in id order, the count of all that match, and the next cursor, in
    one statement."""
    layer, fields = collection.layer, feature_fields(collection, caller, frame)
    page = queries.counted_page(session, caller, layer, limit, cursor, fields, clauses)
    reads: list[tuple[str, str]] = []
    features = _masked(collection, caller, page.edges, reads)
    return Items(features, page.returned, page.matched, page.end_cursor, reads)


def item(
    session: Session, caller: Caller, collection: Collection, row_id: int, frame: Frame
) -> Items:
    """The feature with this id, if the caller may see it (else no features)."""
    chosen = [collection.layer.table.c.id == row_id]
    return items(session, caller, collection, frame, chosen, 1, None)


def feature_fields(collection: Collection, caller: Caller, frame: Frame) -> selection.Fields:
    layer = collection.layer
    geometry = as_geojson(layer.geometry, frame.crs, frame.lat_lon, bare=True).cast(JSON)
    properties = [(name, selection.Sql(sql)) for name, sql in collection.properties.items()]
    shown = _shown(collection, caller)
    for kind in collection.personal:
        raw = layer.table.c[COLUMNS[kind][1]] if kind in shown else null()
        properties.append((kind.value, selection.Sql(raw)))
    fields: list[tuple[str, selection.Part]] = [
        ("type", selection.Constant("Feature")),
        ("id", selection.NodeId()),
        ("geometry", selection.Sql(geometry)),
        ("properties", selection.Nested(tuple(properties))),
    ]
    if shown:  # whether the row is the caller's own decides how they see it (geo.privacy)
        fields.append((OWN, selection.Sql(ownership(layer, caller))))
    return tuple(fields)


def _shown(collection: Collection, caller: Caller) -> list[Personal]:
    """The personal fields this caller may see of their own rows, masked or in full."""
    return [
        kind
        for kind in collection.personal
        if disclosure(caller, kind, own=True) is not Disclosure.HIDDEN
    ]


def _masked(
    collection: Collection, caller: Caller, text: str, reads: list[tuple[str, str]]
) -> bytes:
    """The features with their personal data as the caller may see it; most callers and layers
    have none to show, and their features pass as PostgreSQL wrote them."""
    shown = _shown(collection, caller)
    if not shown:
        return text.encode()
    features = orjson.loads(text)
    for feature in features:
        own, properties = feature.pop(OWN), feature["properties"]
        for kind in shown:
            value = properties[kind.value]
            properties[kind.value] = revealed(caller, kind, value, own, feature["id"], reads)
    return orjson.dumps(features)


@dataclass(frozen=True)
class Extent:
    bbox: list[float] | None  # CRS84
    interval: list[datetime | None] | None


def extent(session: Session, collection: Collection) -> Extent:
    """Where and when the layer's rows lie: from the planner's statistics where it has them
    (a table-wide box, which says nothing of any one row), else measured."""
    layer = collection.layer
    estimated = func.ST_EstimatedExtent(layer.table.name, layer.geometry_column)
    box = func.coalesce(estimated, select(func.ST_Extent(layer.geometry)).scalar_subquery())
    corners = [func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)]
    found = session.execute(select(*corners)).one()
    bbox = None if found[0] is None else [round(float(value), 7) for value in found]
    interval = None
    if collection.time is not None:
        time = collection.extra[collection.time]
        interval = list(session.execute(select(func.min(time), func.max(time))).one())
    return Extent(bbox, interval)
