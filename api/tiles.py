"""GET /tiles/{layer}/{z}/{x}/{y}.mvt and /tiles/{layer}.json (TileJSON 3.0) for web maps."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.errors import error_response
from api.metrics import TILE_CACHE
from api.params import whole_number
from geo import layers, tiles
from geo.errors import BadInput, FugongError, NotFound
from geo.flag_writes import FlagColor

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE_S = 60  # flags change by the minute: a minute of staleness, not an hour


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
        )
        known = _etags(request.headers.get("if-none-match", ""))
        caller = request.state.caller
        built: list[tiles.Tile] = []  # the tile, when it was not kept (for the metrics)

        def build(session: Session) -> tiles.Tile:
            built.append(tiles.built(session, caller=caller, asked=asked))
            return built[0]

        found = await run_in_threadpool(
            request.app.state.databases.acting_for(caller).read_else_write,
            partial(tiles.kept, caller=caller, asked=asked, known=known),
            build,
        )
        TILE_CACHE.labels("built" if built else "hit").inc()
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
    try:
        layer = _layer(request.path_params["layer"])
    except FugongError as error:
        return error_response(error)
    base = str(request.base_url).rstrip("/")
    fields = {name: "see the GraphQL type" for name in layer.public} | {"id": "the node id"}
    return JSONResponse(
        {
            "tilejson": "3.0.0",
            "name": layer.plural,
            "tiles": [f"{base}/tiles/{layer.plural}/{{z}}/{{x}}/{{y}}.mvt"],
            "minzoom": 0,
            "maxzoom": tiles.MAX_ZOOM,
            "vector_layers": [{"id": layer.plural, "fields": fields}],
        }
    )


def _layer(name: str) -> layers.Layer:
    if name not in layers.BY_PLURAL:
        raise NotFound(f"no tile layer {name!r}; there are {', '.join(layers.BY_PLURAL)}")
    return layers.BY_PLURAL[name]


def _flags(values: list[str]) -> tuple[str, ...] | None:
    known = {color.value for color in FlagColor}
    if any(value not in known for value in values):
        raise BadInput(f"flag is one of {', '.join(sorted(known))}")
    return tuple(values) or None
