"""Spatial filters as SQL: every member runs in PostGIS on the GiST indexes, combined with AND;
`name` (a substring of the name) runs on the GIN index of the name's character pairs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    LargeBinary,
    Select,
    Text,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from geo.crs import Crs, to_wgs84
from geo.db import Executor
from geo.errors import BadInput, NotFound
from geo.geometry import ANY_TYPE, POLYGONAL, bbox_polygon, ewkb, parse_geojson
from geo.layers import Layer
from geo.models import Area, table_of

METRES_PER_DEGREE_LAT = 110_574.0  # the shortest degree of latitude, at the equator
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
MAX_RADIUS_M = 100_000.0


@dataclass(frozen=True)
class Near:
    point: Any  # GeoJSON Point
    radius_m: float


@dataclass(frozen=True)
class SpatialFilter:
    area_code: str | None = None
    bbox: list[float] | None = None
    within: Any = None
    intersects: Any = None
    near: Near | None = None
    crs: Crs = Crs.WGS84
    name: str | None = None


@dataclass(frozen=True)
class Bound:
    """A filter's input, checked and converted, as the values its statement binds by name; and
    the shape of the filter: what its SQL depends on (which members, in which CRS)."""

    values: dict[str, Any]
    crs: Crs = Crs.WGS84

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.crs, *sorted(self.values))


NO_FILTER = Bound({})


@dataclass(frozen=True)
class Compiled:
    """A filter ready to apply: its WHERE clauses and, with `near`, the distance to order by,
    `near`'s own clause and its point and radius (within_nearest's)."""

    clauses: list[ColumnElement[bool]]
    distance_m: ColumnElement[float] | None
    near: ColumnElement[bool] | None = None
    point: ColumnElement[Any] | None = None
    radius_m: ColumnElement[float] | None = None


def bind_filter(session: Executor | None, spatial: SpatialFilter | None) -> Bound:
    """The filter's values: coordinates checked and parsed, an area looked up by its code."""
    if spatial is None:
        return NO_FILTER
    crs = spatial.crs
    values: dict[str, Any] = {}
    if spatial.area_code is not None:
        assert session is not None, "an area is looked up in the database"
        values["filter_area_id"] = area_id_of(session, spatial.area_code)
    if spatial.bbox is not None:
        values["filter_bbox"] = ewkb(bbox_polygon(spatial.bbox, crs))
    if spatial.within is not None:
        values["filter_within"] = ewkb(parse_geojson(spatial.within, crs, POLYGONAL, "within"))
    if spatial.intersects is not None:
        shape = parse_geojson(spatial.intersects, crs, ANY_TYPE, "intersects")
        values["filter_intersects"] = ewkb(shape)
    if spatial.name is not None:
        values["filter_name"] = spatial.name
    if spatial.near is not None:
        radius_m = spatial.near.radius_m
        if not (math.isfinite(radius_m) and 0 <= radius_m <= MAX_RADIUS_M):
            raise BadInput(f"near.radiusMeters must be between 0 and {MAX_RADIUS_M:.0f} metres")
        point = parse_geojson(spatial.near.point, crs, ("Point",), "near.point")
        values["near_point"] = ewkb(point)
        values["near_radius_m"] = float(radius_m)
    return Bound(values, crs)


def filter_clauses(layer: Layer, bound: Bound, named: bool = True) -> Compiled:
    """The filter's SQL. `named`: its values are bindparams by name, bound when the statement
    runs (a statement kept by shape, geo.prepared); else they are in the statement, each
    bindparam its own (a filter combined with others, as an OGC API filter's)."""

    def param(name: str, type_: Any) -> ColumnElement[Any]:
        if named:
            return bindparam(name, type_=type_)
        return bindparam(name, bound.values[name], type_=type_, unique=True)

    def geometry(name: str) -> ColumnElement[Any]:
        return to_wgs84(func.ST_GeomFromEWKB(param(name, LargeBinary)), bound.crs)

    column = layer.geometry
    given = bound.values
    clauses: list[ColumnElement[bool]] = []
    if "filter_area_id" in given:
        subtree = subtree_ids(param("filter_area_id", Integer))
        clauses.append(layer.area_column.in_(subtree))
    if "filter_bbox" in given:
        clauses.append(func.ST_Intersects(column, geometry("filter_bbox")))
    if "filter_within" in given:
        clauses.append(func.ST_Within(column, geometry("filter_within")))
    if "filter_intersects" in given:
        clauses.append(func.ST_Intersects(column, geometry("filter_intersects")))
    if "filter_name" in given:
        clauses.append(name_contains(layer, param("filter_name", Text)))
    if "near_point" not in given:
        return Compiled(clauses, None)
    point, radius_m = geometry("near_point"), param("near_radius_m", Float)
    near, distance = _near(column, point, radius_m)
    return Compiled([*clauses, near], distance, near, point, radius_m)


def compile_filter(session: Session, layer: Layer, spatial: SpatialFilter | None) -> Compiled:
    """A filter's clauses with their values in them, to combine with other clauses."""
    return filter_clauses(layer, bind_filter(session, spatial), named=False)


def name_contains(layer: Layer, text: str | ColumnElement[str]) -> ColumnElement[bool]:
    """Names holding `text` anywhere, case-insensitively: the index (migration 0009) finds the
    names with every character and pair of characters of `text`, strpos confirms the order."""
    if "name" not in layer.table.c:
        raise BadInput(f"{layer.type_name} has no name to search")
    name = layer.table.c.name
    grams = func.fugong_name_grams(name).op("@>")(func.fugong_name_grams(text))
    return grams & (func.strpos(func.lower(name), func.lower(text)) > 0)


def area_subtree(session: Executor, code: str) -> Select[int]:
    """The ids of the area with this code and of every area below it."""
    return subtree_ids(area_id_of(session, code))


def area_id_of(session: Executor, code: str) -> int:
    area = table_of(Area)
    found = session.execute(select(area.c.id).where(area.c.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no area has the code {code!r}; `areas` lists the codes")
    return found


def subtree_ids(area_id: int | ColumnElement[int] | None) -> Select[int]:
    """The ids of an area and of every area below it, as a subquery. Its CTE is anonymous:
    SQLAlchemy names each one apart, so a statement may hold as many subtrees as it needs (the
    caller's scope and an areaCode filter, say); a fixed name would clash."""
    area = table_of(Area)
    tree = select(area.c.id).where(area.c.id == area_id).cte(recursive=True)
    tree = tree.union_all(select(area.c.id).where(area.c.parent_id == tree.c.id))
    return select(tree.c.id)


def _near(
    column: ColumnElement[Any], point: ColumnElement[Any], radius_m: ColumnElement[float]
) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    geography = cast(point, Geography)
    exact = func.ST_DWithin(cast(column, Geography), geography, radius_m)
    clause = func.ST_DWithin(column, point, _reach_deg(point, radius_m, radius_m) * 1.01)
    return clause & exact, func.ST_Distance(cast(column, Geography), geography)


def _reach_deg(point: ColumnElement[Any], radius_m: ColumnElement[float], reach_m: Any) -> Any:
    """The radius of a degree-space circle around `point` that surely holds the metric one of
    `reach_m` (a number or SQL, at most `radius_m`): it lets the GiST index make the first cut;
    the exact test and the distance are on the ellipsoid."""
    margin_deg = radius_m / METRES_PER_DEGREE_LAT + 0.5
    cos_lat = func.cos(func.radians(func.least(89.0, func.abs(func.ST_Y(point)) + margin_deg)))
    return func.greatest(
        reach_m / METRES_PER_DEGREE_LON_EQUATOR / cos_lat, reach_m / METRES_PER_DEGREE_LAT
    )


def within_nearest(
    layer: Layer, compiled: Compiled, clauses: Sequence[ColumnElement[bool]], limit: Any
) -> ColumnElement[bool]:
    """The clause that makes a query nearest first cheap: add it to the `clauses` (those of
    the `near` filter `compiled`, and the rest: scope, flags, cursor) of a query that returns
    `limit` rows (a number, or a bindparam). It keeps the rows no farther than the farthest of
    the first `limit` that the GiST index gives in its order (KNN, `<->`) and that meet every
    clause but `near`: that makes `limit` such rows within that distance, so the `limit`
    nearest are too (or all are within the radius). Only the rows in that small circle then
    cost an ellipsoidal distance, not every row within the radius.

    `near`'s own clause is left out of the candidates because the planner, which cannot
    estimate an ellipsoidal ST_DWithin, would otherwise sort them all rather than walk the
    index; the box of its radius stays, so that a scan never runs past it.
    """
    if compiled.near is None or compiled.point is None or compiled.radius_m is None:
        raise BadInput("nearest first needs `near`")
    column, point, radius_m = layer.geometry, compiled.point, compiled.radius_m
    geography = cast(point, Geography)
    others = [clause for clause in clauses if clause is not compiled.near]
    box = func.ST_Expand(point, _reach_deg(point, radius_m, radius_m) * 1.01)
    candidates = (
        select(func.ST_Distance(cast(column, Geography), geography).label("distance_m"))
        .where(column.op("&&")(box), *others)
        .order_by(column.op("<->")(point))
        .limit(limit)
        .subquery("candidates")
    )
    # Once, in a CTE: each of the two uses below would otherwise scan for it again. A hair
    # beyond the farthest, so that rounding never drops it.
    reach = select((func.max(candidates.c.distance_m) * (1 + 1e-9) + 0.001).label("reach_m")).cte()
    reach_m = select(reach.c.reach_m).scalar_subquery()
    reach_box = func.ST_Expand(point, _reach_deg(point, radius_m, reach_m) * 1.01)
    return column.op("&&")(reach_box) & func.ST_DWithin(cast(column, Geography), geography, reach_m)
