"""Spatial filters as SQL: every member runs in PostGIS on the GiST indexes, combined with AND."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Select, cast, func, select
from sqlalchemy.orm import Session

from geo.crs import Crs
from geo.errors import BadInput, NotFound
from geo.geometry import ANY_TYPE, POLYGONAL, bbox_polygon, parse_geojson, to_sql
from geo.layers import Layer
from geo.models import Area

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
    distance = None
    if spatial.near is not None:
        near_clause, distance = _near(column, spatial.near, spatial.crs)
        clauses.append(near_clause)
    return Compiled(clauses, distance)


def area_subtree(session: Session, code: str) -> Select[tuple[int]]:
    """The ids of the area with this code and of every area below it."""
    return subtree_ids(area_id_of(session, code))


def area_id_of(session: Session, code: str) -> int:
    area = Area.__table__
    found = session.execute(select(area.c.id).where(area.c.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no area has the code {code!r}; `areas` lists the codes")
    return found


def subtree_ids(area_id: int | None) -> Select[tuple[int]]:
    """The ids of an area and of every area below it, as a subquery."""
    area = Area.__table__
    tree = select(area.c.id).where(area.c.id == area_id).cte("subtree", recursive=True)
    tree = tree.union_all(select(area.c.id).where(area.c.parent_id == tree.c.id))
    return select(tree.c.id)


def _near(
    column: ColumnElement[Any], near: Near, crs: Crs
) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    if not (math.isfinite(near.radius_m) and 0 <= near.radius_m <= MAX_RADIUS_M):
        raise BadInput(f"near.radiusMeters must be between 0 and {MAX_RADIUS_M:.0f} metres")
    point = to_sql(parse_geojson(near.point, crs, ("Point",), "near.point"), crs)
    # A degree-space circle that surely holds the metric one lets the GiST index do the
    # first cut; the exact test and the distance are on the ellipsoid.
    margin_deg = near.radius_m / METRES_PER_DEGREE_LAT + 0.5
    cos_lat = func.cos(func.radians(func.least(89.0, func.abs(func.ST_Y(point)) + margin_deg)))
    reach_deg = func.greatest(
        near.radius_m / METRES_PER_DEGREE_LON_EQUATOR / cos_lat,
        near.radius_m / METRES_PER_DEGREE_LAT,
    )
    geography = cast(point, Geography)
    exact = func.ST_DWithin(cast(column, Geography), geography, near.radius_m)
    clause = func.ST_DWithin(column, point, reach_deg * 1.01) & exact
    return clause, func.ST_Distance(cast(column, Geography), geography)
