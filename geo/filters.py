"""Spatial filters as SQL: every member runs in PostGIS on the GiST indexes, combined with AND;
`name` (a substring of the name) runs on the GIN index of the name's character pairs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Select, cast, func, select
from sqlalchemy.orm import Session

from geo.crs import Crs
from geo.db import Executor
from geo.errors import BadInput, NotFound
from geo.geometry import ANY_TYPE, POLYGONAL, bbox_polygon, parse_geojson, to_sql
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
class Compiled:
    """A filter ready to apply: its WHERE clauses and, with `near`, the distance to order by."""

    clauses: list[ColumnElement[bool]]
    distance_m: ColumnElement[float] | None


def compile_filter(session: Session, layer: Layer, spatial: SpatialFilter | None) -> Compiled:
    if spatial is None:
        return Compiled([], None)
    column = layer.geometry
    clauses: list[ColumnElement[bool]] = []
    if spatial.area_code is not None:
        clauses.append(layer.area_column.in_(area_subtree(session, spatial.area_code)))
    if spatial.bbox is not None:
        box = to_sql(bbox_polygon(spatial.bbox, spatial.crs), spatial.crs)
        clauses.append(func.ST_Intersects(column, box))
    if spatial.within is not None:
        shape = parse_geojson(spatial.within, spatial.crs, POLYGONAL, "within")
        clauses.append(func.ST_Within(column, to_sql(shape, spatial.crs)))
    if spatial.intersects is not None:
        shape = parse_geojson(spatial.intersects, spatial.crs, ANY_TYPE, "intersects")
        clauses.append(func.ST_Intersects(column, to_sql(shape, spatial.crs)))
    if spatial.name is not None:
        clauses.append(name_contains(layer, spatial.name))
    distance = None
    if spatial.near is not None:
        near_clause, distance = _near(column, spatial.near, spatial.crs)
        clauses.append(near_clause)
    return Compiled(clauses, distance)


def name_contains(layer: Layer, text: str) -> ColumnElement[bool]:
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


def subtree_ids(area_id: int | None) -> Select[int]:
    """The ids of an area and of every area below it, as a subquery. Its CTE is anonymous:
    SQLAlchemy names each one apart, so a statement may hold as many subtrees as it needs (the
    caller's scope and an areaCode filter, say); a fixed name would clash."""
    area = table_of(Area)
    tree = select(area.c.id).where(area.c.id == area_id).cte(recursive=True)
    tree = tree.union_all(select(area.c.id).where(area.c.parent_id == tree.c.id))
    return select(tree.c.id)


def _near(
    column: ColumnElement[Any], near: Near, crs: Crs
) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    point = _centre(near, crs)
    geography = cast(point, Geography)
    exact = func.ST_DWithin(cast(column, Geography), geography, near.radius_m)
    clause = func.ST_DWithin(column, point, _reach_deg(point, near.radius_m, near.radius_m) * 1.01)
    return clause & exact, func.ST_Distance(cast(column, Geography), geography)


def _centre(near: Near, crs: Crs) -> ColumnElement[Any]:
    if not (math.isfinite(near.radius_m) and 0 <= near.radius_m <= MAX_RADIUS_M):
        raise BadInput(f"near.radiusMeters must be between 0 and {MAX_RADIUS_M:.0f} metres")
    return to_sql(parse_geojson(near.point, crs, ("Point",), "near.point"), crs)


def _reach_deg(point: ColumnElement[Any], radius_m: float, reach_m: Any) -> Any:
    """The radius of a degree-space circle around `point` that surely holds the metric one of
    `reach_m` (a number or SQL, at most `radius_m`): it lets the GiST index make the first cut;
    the exact test and the distance are on the ellipsoid."""
    margin_deg = radius_m / METRES_PER_DEGREE_LAT + 0.5
    cos_lat = func.cos(func.radians(func.least(89.0, func.abs(func.ST_Y(point)) + margin_deg)))
    return func.greatest(
        reach_m / METRES_PER_DEGREE_LON_EQUATOR / cos_lat, reach_m / METRES_PER_DEGREE_LAT
    )


def within_nearest(
    layer: Layer, spatial: SpatialFilter, clauses: Sequence[ColumnElement[bool]], limit: int
) -> ColumnElement[bool]:
    """The clause that makes a query nearest first cheap: add it to the `clauses` (those of
    compile_filter with `near`, and the rest: scope, flags, cursor) of a query that returns
    `limit` rows. It keeps the rows no farther than the farthest of the first `limit` that
    the GiST index gives in its order (KNN, `<->`) and that meet every clause but `near`:
    that makes `limit` such rows within that distance, so the `limit` nearest are too (or all
    are within the radius). Only the rows in that small circle then cost an ellipsoidal
    distance, not every row within the radius.

    `near`'s own clause (found among `clauses` by comparing it with the one compile_filter
    builds) is left out of the candidates because the planner, which cannot estimate an
    ellipsoidal ST_DWithin, would otherwise sort them all rather than walk the index; the box
    of its radius stays, so that a scan never runs past it.
    """
    if spatial.near is None:
        raise BadInput("nearest first needs `near`")
    column, near = layer.geometry, spatial.near
    point = _centre(near, spatial.crs)
    geography = cast(point, Geography)
    near_clause, _ = _near(column, near, spatial.crs)
    others = [clause for clause in clauses if not clause.compare(near_clause)]
    box = func.ST_Expand(point, _reach_deg(point, near.radius_m, near.radius_m) * 1.01)
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
    reach_box = func.ST_Expand(point, _reach_deg(point, near.radius_m, reach_m) * 1.01)
    return column.op("&&")(reach_box) & func.ST_DWithin(cast(column, Geography), geography, reach_m)
