"""GET /routes/{zoneId}/{date}.gpx and .geojson: a zone's plan for GPS apps and GIS, under the
same access rules as GraphQL's inspectionRoute."""

from __future__ import annotations

from datetime import date

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from geo.errors import BadInput, FugongError, NotFound
from geo.routing import InspectionPlan, to_geojson, to_gpx
from schema.routes import plan_for, zone_number

STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}
FORMATS = {
    "gpx": ("application/gpx+xml", lambda plan: to_gpx(plan).encode()),
    "geojson": ("application/geo+json", lambda plan: orjson.dumps(to_geojson(plan))),
}


async def route_export(request: Request) -> Response:
    if request.path_params["format"] not in FORMATS:
        return error_response(NotFound(f"routes export as {' or '.join(FORMATS)}"))
    try:
        zone_id = zone_number(request.path_params["zone_id"])
        day = _day(request.path_params["day"])
        inspectors = _int(request, "inspectors", 1)
        shift_minutes = _int(request, "shiftMinutes", 480)
        plan: InspectionPlan = await run_in_threadpool(
            _plan, request, zone_id, day, inspectors, shift_minutes
        )
    except FugongError as error:
        return error_response(error)
    media_type, render = FORMATS[request.path_params["format"]]
    name = f"zone-{zone_id}-{day.isoformat()}.{request.path_params['format']}"
    return Response(
        render(plan),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def error_response(error: FugongError) -> JSONResponse:
    """A failure of a non-GraphQL route, shaped like a GraphQL error, with its HTTP status."""
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    return JSONResponse(body, status_code=STATUS.get(error.code, 400))


def _plan(request: Request, zone_id: int, day: date, inspectors: int, shift: int) -> InspectionPlan:
    with (request.app.state.read_sessions or request.app.state.sessions)() as session:
        return plan_for(session, request.state.caller, zone_id, day, inspectors, shift)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{text!r} is not a date such as 2020-02-28") from None


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput(f"{name} must be a whole number, not {raw!r}")
    return int(raw)
