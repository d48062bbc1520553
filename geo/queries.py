"""Read queries of the map layers: pages, counts, rows by id, geometries, FeatureCollections."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    RowMapping,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from geo import selection
from geo.crs import Crs, as_geojson, named_crs
from geo.errors import BadInput, NotFound
from geo.filters import (
    Bound,
    Compiled,
    SpatialFilter,
    bind_filter,
    compile_filter,
    filter_clauses,
    within_nearest,
)
from geo.layers import AREAS, Layer
from geo.models import AreaLevel
from geo.prepared import prepared
from geo.scope import Caller, ownership, statement_key, visible
from geo.srid import STORAGE_SRID


@dataclass(frozen=True)
class Page:
    rows: Sequence[RowMapping]  # each with its "cursor", and its columns or its "edge" JSON
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.rows[-1]["cursor"] if self.rows else None


def row_columns(
    layer: Layer, caller: Caller | None = None, distance: ColumnElement[float] | None = None
) -> list[ColumnElement[Any]]:
    """Every attribute column but the geometries, which are fetched in the CRS asked for; for
    a caller, whether the row is their own (`own`, geo.scope.ownership), which decides how
    they see its personal data.

    Flagged layers store their flag (flag_color, flag_reason, flag_since, flag_overridden),
    so it comes with the other columns.
    """
    columns: list[ColumnElement[Any]] = [
        c for c in layer.table.c if not hasattr(c.type, "geometry_type")
    ]
    if caller is not None:
        columns.append(ownership(layer, caller).label("own"))
    if distance is not None:
        columns.append(distance.label("distance_m"))
    return columns


def filtered(
    session: Session,
    caller: Caller,
    layer: Layer,
    spatial: SpatialFilter | None,
    flag: Sequence[str] | None,
    more: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[ColumnElement[bool]], ColumnElement[float] | None]:
    """The WHERE clauses of a query, values in them: the caller's scope first, then the
    filters asked for (`more`: clauses a door compiled already, such as an OGC API filter's)."""
    compiled = compile_filter(session, layer, spatial)
    return _where(caller, layer, compiled, flag, more), compiled.distance_m


def _where(
    caller: Caller,
    layer: Layer,
    compiled: Compiled,
    flag: Sequence[str] | ColumnElement[Any] | None,
    more: Sequence[ColumnElement[bool]],
) -> list[ColumnElement[bool]]:
    scope = visible(layer, caller)
    clauses = ([] if scope is None else [scope]) + list(compiled.clauses) + list(more)
    if flag is not None:
        if not layer.has_flag:
            raise BadInput(f"{layer.type_name} has no flag to filter by")
        clauses.append(layer.table.c.flag_color.in_(flag))
    return clauses


def _bound(
    session: Session, spatial: SpatialFilter | None, flag: Sequence[str] | None, **more: Any
) -> tuple[Bound, dict[str, Any]]:
    """The filter's values, and every value a statement of geo.prepared binds."""
    bound = bind_filter(session, spatial)
    values = {**bound.values, **more}
    if flag is not None:
        values["flag"] = list(flag)
    return bound, values


def _page_bound(
    session: Session,
    spatial: SpatialFilter | None,
    flag: Sequence[str] | None,
    first: int,
    after: str | None,
) -> tuple[Bound, dict[str, Any]]:
    """What a page's statement binds: the filter's values, its first + 1 rows, the cursor."""
    bound, values = _bound(session, spatial, flag, limit=first + 1)
    if after is not None:
        values["after_key"], values["after_id"] = decode_cursor(after)
    return bound, values


FLAG: BindParameter[Any] = bindparam("flag", expanding=True)


def page(
    session: Session,
    caller: Caller,
    layer: Layer,
    spatial: SpatialFilter | None,
    flag: Sequence[str] | None,
    first: int,
    after: str | None,
    edge: selection.Fields | None = None,
    more: Sequence[ColumnElement[bool]] = (),
) -> Page:
    """One page in id order, or nearest first when the filter has `near` (keyset pagination):
    rows of columns, or with `edge`, each row's edge as JSON text built by PostgreSQL."""
    bound, values = _page_bound(session, spatial, flag, first, after)
    shape = (layer.type_name, bound.shape, flag is not None, after is not None, edge)
    build = functools.partial(_page_statement, caller, layer, bound, *shape[2:], more)
    if more or not selection.fixed(edge or ()):
        statement, _ = build()
    else:
        statement, _ = prepared(("page", statement_key(caller), *shape), build)
    rows = session.execute(statement, values).mappings().all()
    return Page(rows[:first], len(rows) > first)


@dataclass(frozen=True)
class CountedPage:
    edges: str  # the page's edges as one JSON array, as PostgreSQL joined them
    returned: int
    matched: int  # every row that matches, on every page
    end_cursor: str | None  # None on the last page


def counted_page(
    session: Session,
    caller: Caller,
    layer: Layer,
    first: int,
    after: str | None,
    edge: selection.Fields,
    more: Sequence[ColumnElement[bool]] = (),
) -> CountedPage:
    """`page` of edges and `count` of the same filter in one statement: a door that always
    answers both (OGC API's numberMatched) pays one round trip, and no row passes through
    Python on its way out."""
    bound, values = _page_bound(session, None, None, first, after)
    query, order = _page_statement(caller, layer, bound, False, after is not None, edge, more)
    matched = _count_statement(caller, layer, bound, False, more).scalar_subquery()
    rows = query.add_columns(func.row_number().over(order_by=order).label("n")).subquery()
    kept = rows.c.n <= first
    joined = func.string_agg(rows.c.edge, aggregate_order_by(literal(","), rows.c.n))
    found = session.execute(
        select(
            literal("[") + func.coalesce(joined.filter(kept), literal("")) + literal("]"),
            func.count().filter(kept),
            func.count() > first,
            func.max(rows.c.cursor).filter(rows.c.n == first),  # the last row kept
            matched,
        ).select_from(rows),
        values,
    ).one()
    edges, returned, has_next, end_cursor, total = found
    return CountedPage(edges, returned, total, end_cursor if has_next else None)


def _page_statement(
    caller: Caller,
    layer: Layer,
    bound: Bound,
    flagged: bool,
    after: bool,
    edge: selection.Fields | None,
    more: Sequence[ColumnElement[bool]],
) -> tuple[Select[Any], list[ColumnElement[Any]]]:
    """The statement of a page (its first + 1 rows, the last saying there is a next page), and
    the columns it is ordered by."""
    compiled = filter_clauses(layer, bound)
    clauses = _where(caller, layer, compiled, FLAG if flagged else None, more)
    distance = compiled.distance_m
    id_column = layer.table.c.id
    sort_key: ColumnElement[Any] = distance if distance is not None else id_column
    if after:
        key, last_id = bindparam("after_key", type_=Float), bindparam("after_id", type_=Integer)
        clauses.append(or_(sort_key > key, and_(sort_key == key, id_column > last_id)))
    limit = bindparam("limit", type_=Integer)
    if compiled.near is not None:
        clauses.append(within_nearest(layer, compiled, clauses, limit))
    # The page's rows first, then what is shown of them: in one query, PostgreSQL would build
    # the JSON and the cursor of every matching row before keeping the first of them.
    chosen = (
        select(id_column, sort_key.label("sort_key"))
        .where(*clauses)
        .order_by(*([] if distance is None else [distance]), id_column)
        .limit(limit)
        .subquery("chosen")
    )
    shown_distance = None if distance is None else chosen.c.sort_key
    cursor = cursor_of(chosen.c.sort_key, chosen.c.id)
    if edge is None:
        columns = row_columns(layer, caller, shown_distance)
    else:
        row = selection.Row(layer, caller, shown_distance, cursor)
        columns = [selection.json_object(row, edge).cast(String).label("edge")]
    order: list[ColumnElement[Any]] = [chosen.c.sort_key, chosen.c.id]
    query: Select[Any] = (
        select(*columns, cursor.label("cursor"))
        .select_from(layer.table.join(chosen, chosen.c.id == id_column))
        .order_by(*order)
    )
    return query, order


def count(
    session: Session,
    caller: Caller,
    layer: Layer,
    spatial: SpatialFilter | None,
    flag: Sequence[str] | None,
    more: Sequence[ColumnElement[bool]] = (),
) -> int:
    bound, values = _bound(session, spatial, flag)
    build = functools.partial(_count_statement, caller, layer, bound, flag is not None, more)
    shape = ("count", statement_key(caller), layer.type_name, bound.shape, flag is not None)
    statement = build() if more else prepared(shape, build)
    return session.execute(statement, values).scalar_one()


def _count_statement(
    caller: Caller,
    layer: Layer,
    bound: Bound,
    flagged: bool,
    more: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    compiled = filter_clauses(layer, bound)
    clauses = _where(caller, layer, compiled, FLAG if flagged else None, more)
    return select(func.count()).select_from(layer.table).where(*clauses)


def listing(
    session: Session, caller: Caller, layer: Layer, spatial: SpatialFilter | None
) -> Sequence[RowMapping]:
    """Every row that matches, for the small layers that are not paged."""
    clauses, distance = filtered(session, caller, layer, spatial, None)
    order = [distance] if distance is not None else []
    query = select(*row_columns(layer, caller, distance)).where(*clauses)
    query = query.order_by(*order, layer.table.c.id)
    return session.execute(query).mappings().all()


def area_by_code(session: Session, code: str) -> RowMapping | None:
    return (
        session.execute(select(*row_columns(AREAS)).where(AREAS.table.c.code == code))
        .mappings()
        .first()
    )


def areas(
    session: Session, level: AreaLevel | None, parent_code: str | None
) -> Sequence[RowMapping]:
    table = AREAS.table
    query = select(*row_columns(AREAS)).order_by(table.c.code)
    if level is not None:
        query = query.where(table.c.level == level)
    if parent_code is not None:
        parent = area_by_code(session, parent_code)
        if parent is None:
            raise NotFound(f"no area has the code {parent_code!r}; `areas` lists the codes")
        query = query.where(table.c.parent_id == parent["id"])
    return session.execute(query).mappings().all()


def area_children(session: Session, parent_ids: Sequence[int]) -> dict[int, list[RowMapping]]:
    table = AREAS.table
    query = select(*row_columns(AREAS)).where(table.c.parent_id.in_(parent_ids))
    query = query.order_by(table.c.code)
    children: dict[int, list[RowMapping]] = {}
    for row in session.execute(query).mappings():
        children.setdefault(row["parent_id"], []).append(row)
    return children


def rows_by_id(
    session: Session, caller: Caller, layer: Layer, ids: Sequence[int]
) -> dict[int, RowMapping]:
    """The rows with these ids that the caller may see."""
    scope = visible(layer, caller)
    query = select(*row_columns(layer, caller)).where(layer.table.c.id.in_(ids))
    if scope is not None:
        query = query.where(scope)
    return {row["id"]: row for row in session.execute(query).mappings()}


def geometries(
    session: Session,
    layer: Layer,
    column: str,
    crs: Crs,
    ids: Sequence[int],
    simplify_m: float | None = None,
) -> dict[int, Any]:
    """GeoJSON geometry objects of these rows, in `crs`, built by PostGIS."""
    geometry: ColumnElement[Any] = layer.table.c[column]
    if simplify_m is not None:
        geometry = simplified(geometry, simplify_m)
    query = select(layer.table.c.id, as_geojson(geometry, crs)).where(layer.table.c.id.in_(ids))
    return {id_: orjson.loads(text) for id_, text in session.execute(query)}


def simplified(geometry: ColumnElement[Any], tolerance_m: float) -> ColumnElement[Any]:
    """Douglas-Peucker in metres, in the UTM zone of the geometry, keeping rings valid."""
    if not 0 <= tolerance_m <= 10_000:
        raise BadInput("simplifyMeters must be between 0 and 10000")
    centre = func.ST_Centroid(geometry)
    utm = 32600 + func.floor((func.ST_X(centre) + 180) / 6).cast(Integer) + 1
    metric = func.ST_Transform(geometry, utm)
    return func.ST_Transform(func.ST_SimplifyPreserveTopology(metric, tolerance_m), 4326)


@dataclass(frozen=True)
class FeatureCollection:
    json: str  # as PostGIS wrote it, passed on without parsing
    features: int


def feature_collection(
    session: Session,
    caller: Caller,
    layer: Layer,
    spatial: SpatialFilter | None,
    crs: Crs,
    limit: int,
) -> FeatureCollection:
    """A FeatureCollection built whole by PostGIS: lon/lat, feature ids, public properties."""
    bound, values = _bound(session, spatial, None, limit=limit)
    shape = ("features", statement_key(caller), layer.type_name, bound.shape, crs)
    statement = prepared(
        shape, functools.partial(_feature_collection_statement, caller, layer, bound, crs)
    )
    text, features = session.execute(statement, values).one()
    return FeatureCollection(text, features)


def _feature_collection_statement(
    caller: Caller, layer: Layer, bound: Bound, crs: Crs
) -> Select[str, int]:
    compiled = filter_clauses(layer, bound)
    clauses = _where(caller, layer, compiled, None, ())
    limit = bindparam("limit", type_=Integer)
    distance = compiled.distance_m
    if compiled.near is not None:
        clauses.append(within_nearest(layer, compiled, clauses, limit))
    public = layer.public if distance is None else {**layer.public, "distanceMeters": distance}
    properties = func.json_build_object(*_pairs(public))
    feature = func.json_build_object(
        "type",
        "Feature",
        "id",
        layer.global_id(layer.table.c.id),
        "geometry",
        as_geojson(layer.geometry, crs).cast(JSON),
        "properties",
        properties,
    )
    order = [distance] if distance is not None else []
    rows = (
        select(feature.label("feature"))
        .where(*clauses)
        .order_by(*order, layer.table.c.id)
        .limit(limit)
        .subquery()
    )
    label = named_crs(crs)
    members: list[Any] = ["type", "FeatureCollection"]
    if label is not None:
        members += ["crs", literal(orjson.dumps(label).decode()).cast(JSON)]
    listed = func.coalesce(func.json_agg(rows.c.feature), literal("[]").cast(JSON))
    return select(
        func.json_build_object(*members, "features", listed).cast(String),
        func.count(),
    )


def _pairs(properties: dict[str, ColumnElement[Any]]) -> list[Any]:
    return [part for name, column in properties.items() for part in (literal(name), column)]


def converted(session: Session, shape: BaseGeometry, crs: Crs) -> Any:
    """A WGS84 shapely geometry as a GeoJSON geometry in `crs`, converted by PostGIS."""
    wgs84 = func.ST_GeomFromEWKB(from_shape(shape, srid=STORAGE_SRID))
    return orjson.loads(session.execute(select(as_geojson(wgs84, crs))).scalar_one())


def cursor_of(sort_key: ColumnElement[Any], id_column: ColumnElement[int]) -> ColumnElement[str]:
    """base64url of [sort key, id], built in SQL so compiled pages and row pages agree."""
    pair = func.json_build_array(sort_key.cast(Float), id_column).cast(String)
    base64 = func.encode(func.convert_to(pair, "UTF8"), "base64")
    return func.translate(base64, "+/\n", "-_")


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        key, id_ = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(key), int(id_)
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, UnicodeError):
        raise BadInput(f"cursor {cursor!r} is not one this API gave out") from None
