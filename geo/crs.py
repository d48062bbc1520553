"""Coordinate systems a caller may speak; the conversions themselves live in SQL (crs.sql).
Geometries are stored in WGS84, so these helpers wrap SQL expressions on the way in and out."""

from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql import ColumnElement

from geo.srid import GEOJSON_DECIMALS


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
