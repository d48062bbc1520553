"""Coordinate systems a caller may speak; the conversions themselves live in SQL (crs.sql).
Geometries are stored in WGS84, so these helpers wrap SQL expressions on the way in and out."""

from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql import ColumnElement

from geo.srid import CGCS2000_SRID, GEOJSON_DECIMALS, WEB_MERCATOR_SRID


class Crs(Enum):
    WGS84 = "WGS84"
    GCJ02 = "GCJ02"  # China's obfuscated datum: AMap (Gaode), Tencent, Google in China
    BD09 = "BD09"  # Baidu's further offset of GCJ02
    CGCS2000 = "CGCS2000"  # EPSG:4490, China's official datum
    WEB_MERCATOR = "WEB_MERCATOR"  # EPSG:3857, in metres


def to_wgs84(geom_expr: ColumnElement[Any], crs: Crs) -> ColumnElement[Any]:
    """Read geom_expr's coordinates in crs and give them in WGS84 (SRID 4326)."""
    if crs is Crs.WGS84:
        return geom_expr
    return func.fugong_to_wgs84(geom_expr, crs.value)


def from_wgs84(geom_expr: ColumnElement[Any], crs: Crs) -> ColumnElement[Any]:
    """Give WGS84 geom_expr's coordinates in crs."""
    if crs is Crs.WGS84:
        return geom_expr
    return func.fugong_from_wgs84(geom_expr, crs.value)


def geojson_decimals(crs: Crs) -> int:
    """Decimals worth printing: 7 for degrees (about 1 cm), 2 for Web Mercator's metres."""
    return 2 if crs is Crs.WEB_MERCATOR else GEOJSON_DECIMALS


# The EPSG codes of the systems that have one: a FeatureCollection in them says so (`crs`).
# WGS84 is GeoJSON's own (RFC 7946) and needs no label; GCJ-02 and BD-09 have no code.
EPSG = {Crs.CGCS2000: CGCS2000_SRID, Crs.WEB_MERCATOR: WEB_MERCATOR_SRID}


def named_crs(crs: Crs) -> dict[str, object] | None:
    """The 2008 GeoJSON `crs` member that GDAL and QGIS read, for a collection not in WGS84."""
    code = EPSG.get(crs)
    if code is None:
        return None
    return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}}


def as_geojson(geom_expr: ColumnElement[Any], crs: Crs) -> ColumnElement[Any]:
    """GeoJSON text of WGS84 geom_expr in crs, exterior rings counter-clockwise and holes
    clockwise as RFC 7946 requires (stored rings wind either way): every geometry that leaves
    fugong as GeoJSON is written here."""
    return func.ST_AsGeoJSON(
        func.ST_ForcePolygonCCW(from_wgs84(geom_expr, crs)), geojson_decimals(crs)
    )
