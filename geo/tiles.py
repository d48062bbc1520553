"""Mapbox vector tiles built by PostGIS (ST_AsMVT), under the same scope and filters as the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, func, literal, select
from sqlalchemy.orm import Session

from geo.errors import BadInput
from geo.filters import SpatialFilter
from geo.layers import Layer
from geo.queries import filtered
from geo.scope import Caller
from geo.srid import STORAGE_SRID, WEB_MERCATOR_SRID

MAX_ZOOM = 22
EXTENT = 4096  # tile coordinates per side, as the spec suggests
BUFFER = 64  # so symbols and lines do not clip at tile edges


def tile(
    session: Session,
    caller: Caller,
    layer: Layer,
    z: int,
    x: int,
    y: int,
    spatial: SpatialFilter | None = None,
    flag: Sequence[str] | None = None,
) -> bytes:
    """One tile of `layer`: geometries in tile coordinates, the feature id and the layer's public
    properties (the flag colour included); empty when nothing in scope lies there."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise BadInput(f"no tile {z}/{x}/{y}: z is 0..{MAX_ZOOM}, x and y 0..2^z-1")
    envelope = func.ST_TileEnvelope(z, x, y)
    clauses, _ = filtered(session, caller, layer, spatial, flag)
    in_tile = func.ST_Intersects(layer.geometry, func.ST_Transform(envelope, STORAGE_SRID))
    geometry = func.ST_AsMVTGeom(
        func.ST_Transform(layer.geometry, WEB_MERCATOR_SRID), envelope, EXTENT, BUFFER, True
    )
    features = (
        select(
            geometry.label("geom"),
            (literal(f"{layer.type_name}:") + layer.table.c.id.cast(String)).label("id"),
            *(_as_text_if_enum(column).label(name) for name, column in layer.public.items()),
        )
        .where(in_tile, *clauses)
        .subquery("features")
    )
    name = layer.plural
    data = session.execute(select(func.ST_AsMVT(features.table_valued(), name, EXTENT, "geom")))
    return bytes(data.scalar_one() or b"")


def _as_text_if_enum(column: Any) -> Any:
    # MVT properties are strings, numbers or booleans: enums go as their names.
    return column.cast(String) if hasattr(column.type, "enums") else column
