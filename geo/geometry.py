"""The one parser of geometry input: GeoJSON from a caller, checked before it reaches SQL."""

from __future__ import annotations

import math
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func

from geo.crs import Crs, to_wgs84
from geo.errors import BadInput
from geo.srid import STORAGE_SRID

MAX_VERTICES = 10_000
WEB_MERCATOR_LIMIT_M = 20_037_508.342789244
POLYGONAL = ("Polygon", "MultiPolygon")
ANY_TYPE = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)


def parse_geojson(value: Any, crs: Crs, allowed: tuple[str, ...], what: str) -> BaseGeometry:
    """A valid shapely geometry of an allowed type from a GeoJSON geometry object, or BadInput."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise BadInput(f"{what} must be a GeoJSON geometry object with a 'type'")
    if value["type"] not in allowed:
        raise BadInput(f"{what} must be a GeoJSON {' or '.join(allowed)}, not {value['type']}")
    if value["type"] != "GeometryCollection" and not isinstance(value.get("coordinates"), list):
        raise BadInput(f"{what} needs a 'coordinates' array")
    _check_rings_closed(value, what)
    try:
        geometry = shapely.geometry.shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise BadInput(f"{what} is not valid GeoJSON: {error}") from None
    if geometry.is_empty:
        raise BadInput(f"{what} is empty")
    # An altitude (GeoJSON's optional third number) is no part of what fugong stores.
    geometry = shapely.force_2d(geometry)
    vertices = shapely.get_num_coordinates(geometry)
    if vertices > MAX_VERTICES:
        raise BadInput(f"{what} has {vertices} vertices; at most {MAX_VERTICES} are accepted")
    _check_range(shapely.get_coordinates(geometry).tolist(), crs, what)
    if not geometry.is_valid:
        raise BadInput(f"{what} is not a valid geometry: {shapely.is_valid_reason(geometry)}")
    return geometry


def _check_rings_closed(value: dict[str, Any], what: str) -> None:
    # shapely closes open rings silently; GeoJSON (RFC 7946 §3.1.6) requires them closed.
    kind = value["type"]
    if kind not in POLYGONAL:
        return
    polygons = [value["coordinates"]] if kind == "Polygon" else value["coordinates"]
    for polygon in polygons:
        for ring in polygon if isinstance(polygon, list) else []:
            if isinstance(ring, list) and len(ring) >= 1 and ring[0] != ring[-1]:
                raise BadInput(f"{what} has a ring whose first and last positions differ")
            if isinstance(ring, list) and len(ring) < 4:
                raise BadInput(f"{what} has a ring of fewer than 4 positions")


def _check_range(coordinates: list[list[float]], crs: Crs, what: str) -> None:
    for x, y in coordinates:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise BadInput(f"{what} has a coordinate that is not a finite number")
        if crs is Crs.WEB_MERCATOR:
            if abs(x) > WEB_MERCATOR_LIMIT_M or abs(y) > WEB_MERCATOR_LIMIT_M:
                raise BadInput(f"{what} has ({x}, {y}) outside the Web Mercator plane")
        elif not (-180 <= x <= 180 and -90 <= y <= 90):
            raise BadInput(
                f"{what} has ({x}, {y}) outside longitude -180..180, latitude -90..90"
                " (GeoJSON order is longitude, latitude)"
            )


def bbox_polygon(bbox: list[float], crs: Crs) -> BaseGeometry:
    if len(bbox) != 4:
        raise BadInput("bbox must be [minLon, minLat, maxLon, maxLat]: four numbers")
    min_x, min_y, max_x, max_y = bbox
    _check_range([[min_x, min_y], [max_x, max_y]], crs, "bbox")
    if min_x > max_x or min_y > max_y:
        raise BadInput(f"bbox {bbox} has a minimum above its maximum")
    box = shapely.box(min_x, min_y, max_x, max_y)
    # The GCJ-02 and BD-09 shifts bend straight edges: give the edges vertices to bend with.
    return shapely.segmentize(box, 0.005) if crs in (Crs.GCJ02, Crs.BD09) else box


def ewkb(geometry: BaseGeometry) -> bytes:
    """The geometry as a statement binds it: EWKB, in the storage SRID."""
    return shapely.to_wkb(shapely.set_srid(geometry, STORAGE_SRID), include_srid=True)


def to_sql(geometry: BaseGeometry, crs: Crs) -> ColumnElement[Any]:
    """The geometry as a WGS84 SQL value, converted from `crs` in the database."""
    return to_wgs84(func.ST_GeomFromEWKB(from_shape(geometry, srid=STORAGE_SRID)), crs)
