"""The daily duties outside GraphQL, under the same scope and masking:

GET /briefing/{areaCode}/{date}.png|.svg   the summary chart (officers of the area)
GET /briefing/{areaCode}/{date}.pdf        the A4 briefing, a page per area below (officers)
GET /signboards/{enterpriseId}.pdf|.png    the public signboard, with its QR code (anyone)
GET /status/{enterpriseId}                 the public status page that QR code opens (anyone)
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api import chart, documents
from api.exports import error_response
from geo import briefing, scope, signboards
from geo.briefing import Briefing
from geo.days import today
from geo.errors import FugongError, NotFound
from geo.filters import area_id_of
from geo.scope import Caller
from schema.scalars import parse_date

PICTURES = {**chart.FORMATS, "pdf": "application/pdf"}
SIGNBOARD_FORMATS = {"pdf": "application/pdf", "png": "image/png"}
# The status page is self-contained: it may load nothing, run nothing, be framed by no one.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=60",
}


async def briefing_picture(request: Request) -> Response:
    fmt = request.path_params["format"]
    if fmt not in PICTURES:
        return error_response(NotFound(f"a briefing comes as {', '.join(PICTURES)}"))
    area_code = request.path_params["area_code"]
    try:
        day = parse_date(request.path_params["day"])
        body = await run_in_threadpool(_picture, request, area_code, day, fmt)
    except FugongError as error:
        return error_response(error)
    name = f"briefing-{area_code}-{day.isoformat()}.{fmt}"
    return _document(body, PICTURES[fmt], name, "private")


def _picture(request: Request, area_code: str, day: date, fmt: str) -> bytes:
    caller = request.state.caller
    read = request.app.state.databases.acting_for(caller).read
    found, trend = read(_briefing_data, caller, area_code, day)
    data = _chart_data(found, trend)
    if fmt != "pdf":
        return chart.summary_chart(data, fmt)
    children = {
        child.area["id"]: chart.summary_chart(_child_data(child, trend, day), "png", 900)
        for child in found.children
    }
    return documents.briefing_pdf(found, chart.summary_chart(data, "png"), children)


def _briefing_data(
    session: Session, caller: Caller, area_code: str, day: date
) -> tuple[Briefing, briefing.Trend]:
    scope.require_officer(session, caller, area_id_of(session, area_code))
    found = briefing.daily_briefing(session, caller, area_code, day)
    return found, briefing.flag_trend(session, area_code, day)


def _chart_data(found: Briefing, trend: briefing.Trend) -> chart.ChartData:
    return chart.ChartData(
        found.area.area["name"], found.day, trend, found.children or [found.area], found.area
    )


def _child_data(child: briefing.AreaDay, trend: briefing.Trend, day: date) -> chart.ChartData:
    name = child.area["name"]
    own = [(on, [(n, counts) for n, counts in areas if n == name]) for on, areas in trend]
    return chart.ChartData(name, day, own, [child], child)


def enterprise_number(text: str) -> int:
    """An enterprise in a path: Enterprise:42, or 42."""
    number = text.removeprefix("Enterprise:")
    if not (number.isascii() and number.isdigit()):
        raise NotFound(f"{text!r} is not an enterprise id such as Enterprise:42")
    return int(number)


async def signboard(request: Request) -> Response:
    fmt = request.path_params["format"]
    if fmt not in SIGNBOARD_FORMATS:
        return error_response(NotFound(f"a signboard comes as {', '.join(SIGNBOARD_FORMATS)}"))
    try:
        number = enterprise_number(request.path_params["enterprise_id"])
        body = await run_in_threadpool(_signboard, request, number, fmt)
    except FugongError as error:
        return error_response(error)
    return _document(body, SIGNBOARD_FORMATS[fmt], f"signboard-{number}.{fmt}", "public")


def _document(body: bytes, media_type: str, name: str, audience: str) -> Response:
    # A minute of caching: a chart or board read again in a chat group is not drawn again.
    headers = {
        "Content-Disposition": f'inline; filename="{name}"',
        "Cache-Control": f"{audience}, max-age=60",
    }
    return Response(body, media_type=media_type, headers=headers)


def status_url(request: Request, enterprise_id: int) -> str:
    return f"{request.app.state.settings.public_url}/status/{enterprise_id}"


def _signboard(request: Request, enterprise_id: int, fmt: str) -> bytes:
    board = request.app.state.databases.read(signboards.public_board, enterprise_id)
    pdf = documents.signboard_pdf(board, status_url(request, enterprise_id))
    return pdf if fmt == "pdf" else documents.pdf_to_png(pdf)


async def status(request: Request) -> Response:
    try:
        number = enterprise_number(request.path_params["enterprise_id"])
        board = await run_in_threadpool(_board, request, number)
    except FugongError as error:
        response = error_response(error)
        response.headers.update(PAGE_HEADERS)
        return response
    return HTMLResponse(documents.status_page(board, today()), headers=PAGE_HEADERS)


def _board(request: Request, enterprise_id: int) -> signboards.PublicBoard:
    return request.app.state.databases.read(signboards.public_board, enterprise_id)  # type: ignore[no-any-return]
