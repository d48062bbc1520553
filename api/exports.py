"""GET /routes/{zoneId}/{date}.gpx and .geojson: a zone's plan for GPS apps and GIS, under the
same access rules as GraphQL's inspectionRoute."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.params import whole_number
from geo.errors import FugongError, NotFound
from geo.routing import StoredPlan, plan_key, reused_plan, solved_plan, to_geojson, to_gpx
from schema.scalars import parse_date

STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}
FORMATS: dict[str, tuple[str, Callable[[StoredPlan], bytes]]] = {
    "gpx": (
        "application/gpx+xml",
        lambda s: to_gpx(s.plan, s.planned_at, s.visited).encode(),
    ),
    "geojson": (
        "application/geo+json",
        lambda s: orjson.dumps(to_geojson(s.plan, s.planned_at, s.visited)),
    ),
}


async def route_export(request: Request) -> Response:
    if request.path_params["format"] not in FORMATS:
        return error_response(NotFound(f"routes export as {' or '.join(FORMATS)}"))
    try:
        key = plan_key(
            request.path_params["zone_id"],
            parse_date(request.path_params["day"]),
            _int(request, "inspectors", 1),
            _int(request, "shiftMinutes", 480),
        )
        databases, caller = request.app.state.databases, request.state.caller
        stored = await run_in_threadpool(
            databases.read_else_write, reused_plan, solved_plan, caller, key
        )
    except FugongError as error:
        return error_response(error)
    media_type, render = FORMATS[request.path_params["format"]]
    name = f"zone-{key.zone_id}-{key.day.isoformat()}.{request.path_params['format']}"
    return Response(
        render(stored),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def error_response(error: FugongError) -> JSONResponse:
    """A failure of a non-GraphQL route, shaped like a GraphQL error, with its HTTP status."""
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    return JSONResponse(body, status_code=STATUS.get(error.code, 400))


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    return whole_number(raw, name)
