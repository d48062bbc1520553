"""Mapbox vector tiles built by PostGIS (ST_AsMVT), under the same scope and filters as the API,
and kept in tile_cache for every process and host to share until a write touches them."""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Numeric,
    String,
    any_,
    bindparam,
    case,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from geo.crs import Crs, from_wgs84
from geo.errors import BadInput
from geo.filters import SpatialFilter
from geo.layers import AREAS, BY_PLURAL, Layer
from geo.models import TILE_CACHE, FlagColor, Role
from geo.queries import filtered
from geo.scope import Caller
from geo.srid import STORAGE_SRID, WEB_MERCATOR_SRID

MAX_ZOOM = 22
EXTENT = 4096  # tile coordinates per side, as the spec suggests
BUFFER = 64  # so symbols and lines do not clip at tile edges
# Below DETAIL_ZOOM a point layer keeps one point per cell, a tile CELL_ZOOMS zooms down (64 x
# 64 cells: 4 pixels of a 256-pixel tile), the most urgent flag first: a z12 tile of a million
# enterprises would otherwise hold 117,000 of them, 9.6 MB.
DETAIL_ZOOM = 14
CELL_ZOOMS = 6
KEY_ZOOM = 13  # fugong_tile_key(geom) is the point's z13 tile, y * 2^13 + x (migration 0006)
ID_MASK = 2**32 - 1
MAX_KEYS = 4096  # more z13 tiles than this in one tile: a range of keys instead of a list
LOCK_NOT_AVAILABLE = "55P03"
# Tiles in GCJ-02 or BD-09 (for base maps drawn in them): their offsets from WGS84 stay under
# ~1.2 km in China, so features this far outside a tile may be shifted into it.
SHIFT_MARGIN_DEG = 0.02
TILE_CRSES = (Crs.WGS84, Crs.GCJ02, Crs.BD09)  # angles on the sphere, as XYZ tiles need


@dataclass(frozen=True)
class Asked:
    """A tile as a URL asks for it: the layer, z/x/y, and the filters of its query string."""

    layer: Layer
    z: int
    x: int
    y: int
    area_code: str | None = None
    flag: tuple[str, ...] | None = None
    crs: Crs = Crs.WGS84  # what the tile's coordinates are drawn in

    def __post_init__(self) -> None:
        z, x, y = self.z, self.x, self.y
        if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise BadInput(f"no tile {z}/{x}/{y}: z is 0..{MAX_ZOOM}, x and y 0..2^z-1")
        if self.crs not in TILE_CRSES:
            raise BadInput(f"tiles are drawn in {', '.join(c.value for c in TILE_CRSES)}")

    @property
    def filters(self) -> str:
        """The cache key's filters, led by the content version: a deploy that changes what a
        tile holds never serves the tiles kept before it."""
        flags = ",".join(sorted(set(self.flag))) if self.flag else ""
        crs = "" if self.crs is Crs.WGS84 else f"&crs={self.crs.value}"
        return f"v={content_version()}&areaCode={self.area_code or ''}&flag={flags}{crs}"

    @property
    def margin_deg(self) -> float:
        return 0.0 if self.crs is Crs.WGS84 else SHIFT_MARGIN_DEG


@functools.cache
def content_version() -> str:
    """A digest of what decides a tile's bytes besides the data: the code that builds it (this
    module) and each layer's properties as SQL. Any change to either is a new version."""
    parts = [inspect.getsource(sys.modules[__name__])]
    for name, layer in sorted(BY_PLURAL.items()):
        properties = select(*(_mvt_value(v).label(k) for k, v in layer.public.items()))
        parts += [
            name,
            layer.geometry_column,
            str(properties.compile(dialect=postgresql.dialect())),  # type: ignore[no-untyped-call]
        ]
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=6).hexdigest()


def forget_other_versions(session: Session) -> int:
    """Drop the kept tiles of other content versions (a deploy's first start does it): they
    can never be served again. How many were dropped."""
    stale = TILE_CACHE.delete().where(~TILE_CACHE.c.filters.startswith(f"v={content_version()}&"))
    return session.execute(stale).rowcount  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Tile:
    mvt: bytes | None  # None when the caller's copy, named by its etag, is still current
    etag: str


def tile(
    session: Session,
    caller: Caller,
    layer: Layer,
    z: int,
    x: int,
    y: int,
    spatial: SpatialFilter | None = None,
    flag: Sequence[str] | None = None,
    crs: Crs = Crs.WGS84,
) -> bytes:
    """One tile of `layer`, in one statement: geometries in tile coordinates (of `crs`), the
    feature id and the layer's public properties (the flag colour included); empty when
    nothing in scope lies there. Below DETAIL_ZOOM, points are thinned to one per cell."""
    margin_deg = Asked(layer, z, x, y, crs=crs).margin_deg  # checks z/x/y and crs
    clauses, _ = filtered(session, caller, layer, spatial, flag)
    envelope = func.ST_TileEnvelope(z, x, y)
    rows = layer.table
    drawn = from_wgs84(layer.geometry, crs)
    features = select(
        func.ST_AsMVTGeom(
            func.ST_Transform(drawn, WEB_MERCATOR_SRID), envelope, EXTENT, BUFFER, True
        ).label("geom"),
        layer.global_id(rows.c.id).label("id"),
        *(_mvt_value(value).label(name) for name, value in layer.public.items()),
    )
    if z < DETAIL_ZOOM and getattr(layer.geometry.type, "geometry_type", None) == "POINT":
        # As an array, so that the planner looks each one up by id.
        ring = 0 if crs is Crs.WGS84 else 1  # the z13 tiles around, whose points may shift in
        features = features.where(
            rows.c.id == any_(func.array(_one_per_cell(layer, z, x, y, clauses, ring)))
        )
    else:
        around = func.ST_Expand(func.ST_Transform(envelope, STORAGE_SRID), margin_deg)
        features = features.where(func.ST_Intersects(layer.geometry, around), *clauses)
    found = features.subquery("features")
    data = session.execute(
        select(func.ST_AsMVT(found.table_valued(), layer.plural, EXTENT, "geom"))
    )
    return bytes(data.scalar_one() or b"")


def _one_per_cell(
    layer: Layer, z: int, x: int, y: int, clauses: list[ColumnElement[bool]], ring: int
) -> Any:
    """The ids of the points kept: in each cell, the most urgent flag, then the lowest id. Read
    from the index on fugong_tile_key(geom), which holds every column that scopes and filters
    read; (urgency, id) packed in one bigint, so that a hash aggregate picks it (half the time
    of sorting the tile's points by cell)."""
    geom, id_ = layer.geometry, layer.table.c.id
    # Float throughout: SQLAlchemy would divide integers as NUMERIC, and round pi() to it.
    cells = 2 ** (z + CELL_ZOOMS)
    lon, lat = func.ST_X(geom, type_=Float), func.ST_Y(geom, type_=Float)
    cell_x = func.floor((lon + 180.0) / 360.0 * float(cells))
    cell_y = func.floor(
        (1.0 - func.asinh(func.tan(func.radians(lat))) / func.pi(type_=Float)) / 2.0 * float(cells)
    )
    cell = cell_y.cast(BigInteger) * cells + cell_x.cast(BigInteger)
    first: ColumnElement[Any] = id_
    if layer.has_flag:
        color = layer.table.c.flag_color
        urgency = case((color == FlagColor.RED, 0), (color == FlagColor.YELLOW, 1), else_=2)
        first = urgency.cast(BigInteger).op("<<")(32).op("|")(id_)
    return (
        select(func.min(first).op("&")(ID_MASK))
        .where(_keys_in_tile(func.fugong_tile_key(geom), z, x, y, ring), *clauses)
        .group_by(cell)
        .correlate(None)
        .scalar_subquery()
    )


def _keys_in_tile(
    key: ColumnElement[int], z: int, x: int, y: int, ring: int = 0
) -> ColumnElement[bool]:
    """The points of tile z/x/y (z <= KEY_ZOOM) by their z13 tile key, and of `ring` z13 tiles
    around it."""
    span = 2 ** (KEY_ZOOM - z)
    side = 2**KEY_ZOOM
    xs = range(max(x * span - ring, 0), min((x + 1) * span + ring, side))
    ys = range(max(y * span - ring, 0), min((y + 1) * span + ring, side))
    if span * span <= MAX_KEYS:
        keys = [row * side + col for row in ys for col in xs]
        return key == any_(bindparam("tile_keys", keys, type_=ARRAY(BigInteger)))
    first, last = ys[0] * side + xs[0], ys[-1] * side + xs[-1]
    return key.between(first, last) & (key % side).between(xs[0], xs[-1])


def _mvt_value(column: Any) -> Any:
    """MVT properties are strings, numbers or booleans: enums go as their names, and NUMERIC as
    a double, which ST_AsMVT would otherwise write as a string (capacityPct "85.0")."""
    if hasattr(column.type, "enums"):
        return column.cast(String)
    if isinstance(column.type, Numeric):
        return column.cast(Float)
    return column


def scope_of(caller: Caller) -> str:
    """Whose tile it is: what decides which rows it may show (geo.scope.visible)."""
    if caller.role is None:
        return "anonymous"
    if caller.role is Role.TOWN_OFFICER:
        return f"town:{caller.town_id}"
    if caller.role is Role.INSPECTOR:
        return f"inspector:{caller.account_id}"  # their zones: account_zone drops these
    return caller.role.value.lower()


def kept(
    session: Session, caller: Caller, asked: Asked, known: Collection[str] = ()
) -> Tile | None:
    """The tile kept for this caller's scope, or None; its bytes only when `known` (the etags
    the caller holds) does not name it."""
    cache = TILE_CACHE.c
    fresh = cache.etag.in_(list(known))
    row = session.execute(
        select(cache.etag, case((fresh, None), else_=cache.mvt)).where(
            cache.layer == asked.layer.plural,
            cache.z == asked.z,
            cache.x == asked.x,
            cache.y == asked.y,
            cache.scope == scope_of(caller),
            cache.filters == asked.filters,
        )
    ).first()
    return None if row is None else Tile(None if row[1] is None else bytes(row[1]), row[0])


def built(session: Session, caller: Caller, asked: Asked) -> Tile:
    """Builds the tile and keeps it, in the session's transaction (the caller commits), unless
    a write that may drop it is under way: then it is only served (migrations/sql/tiles.sql)."""
    keep = _guarded(session)
    spatial = None if asked.area_code is None else SpatialFilter(area_code=asked.area_code)
    z, x, y = asked.z, asked.x, asked.y
    mvt = tile(session, caller, asked.layer, z, x, y, spatial, asked.flag, asked.crs)
    etag = 'W/"' + hashlib.blake2b(mvt, digest_size=16).hexdigest() + '"'
    if keep:
        # A write inside these bounds drops the tile: those of the stored (WGS84) geometries
        # that the tile may draw, however far the tile's CRS shifts them.
        bounds = func.ST_Expand(
            func.ST_Transform(func.ST_TileEnvelope(z, x, y), STORAGE_SRID),
            1e-7 + asked.margin_deg,
        )
        values = {
            "layer": asked.layer.plural, "z": z, "x": x, "y": y, "scope": scope_of(caller),
            "filters": asked.filters, "mvt": mvt, "etag": etag, "bounds": bounds,
        }  # fmt: skip
        session.execute(insert(TILE_CACHE).values(values).on_conflict_do_nothing())
    return Tile(mvt, etag)


def _guarded(session: Session) -> bool:
    """Hold tile_cache_guard (SHARE) until commit, if no write holds it; whether it is held."""
    try:
        with session.begin_nested():
            session.execute(text("LOCK TABLE tile_cache_guard IN SHARE MODE NOWAIT"))
    except OperationalError as error:
        if getattr(error.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            return False
        raise
    return True


def district_bounds(session: Session, crs: Crs = Crs.WGS84) -> tuple[float, float, float, float]:
    """West, south, east, north of the district (the area without a parent), in `crs`."""
    boundary = from_wgs84(AREAS.table.c.boundary, crs)
    box = select(
        func.ST_XMin(func.ST_Extent(boundary)),
        func.ST_YMin(func.ST_Extent(boundary)),
        func.ST_XMax(func.ST_Extent(boundary)),
        func.ST_YMax(func.ST_Extent(boundary)),
    ).where(AREAS.table.c.parent_id.is_(None))
    west, south, east, north = session.execute(box).one()
    return round(west, 6), round(south, 6), round(east, 6), round(north, 6)
