"""GET /ogc/…: OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering) over the map
layers, for QGIS, ArcGIS and GDAL. The caller, scope, masking and audit are GraphQL's own:
pages come from geo.queries, personal data through geo.privacy, reads into geo.audit."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.ogc import crs, documents, html, openapi, params, problems
from api.ogc.documents import (
    CONFORMANCE,
    HTML,
    JSON,
    SCHEMA,
    describe,
    iso,
    link,
    self_links,
    wants_html,
)
from geo import audit, features
from geo.errors import FugongError, NotFound
from geo.features import COLLECTIONS, Collection
from geo.scope import sees_layer

log = logging.getLogger("fugong.ogc")
T = TypeVar("T")


def _door(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except FugongError as error:
            return problems.of(error)

    return answer


async def _read(request: Request, work: Callable[..., T], *args: Any) -> T:
    """`work(session, *args)` off the event loop, on a replica when there is one."""
    databases = request.app.state.databases.acting_for(request.state.caller)
    return await run_in_threadpool(databases.read, work, *args)


async def _audited(request: Request, reads: list[tuple[str, str]]) -> Response | None:
    """Full reads of personal data into the audit log before the answer leaves; if the log
    cannot be written, nothing is sent (as GraphQL's AuditPersonalReads)."""
    if not reads:
        return None
    caller = request.state.caller
    databases = request.app.state.databases.acting_for(caller)
    try:
        await run_in_threadpool(databases.write, audit.record_reads, caller, reads)
    except Exception:  # noqa: BLE001 - any failure must withhold the data
        log.exception("personal data read through /ogc could not be audited")
        return problems.problem(
            503, "INTERNAL_SERVER_ERROR", "personal data was read but not audited"
        )
    return None


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body: Any, kind: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=kind, headers=headers)


def _collection(request: Request) -> Collection:
    """The collection named in the path, if the caller may see any of it."""
    found = COLLECTIONS.get(request.path_params["collection"])
    if found is None or not sees_layer(found.layer, request.state.caller):
        visible = [c.id for c in COLLECTIONS.values() if sees_layer(c.layer, request.state.caller)]
        name = request.path_params["collection"]
        raise NotFound(f"no collection {name!r}; there are {', '.join(visible)}")
    return found


@_door
async def landing(request: Request) -> Response:
    given = params.checked(request, ("f",))
    root = _root(request)
    body = {
        "title": "fugong 复工: OGC API – Features",
        "description": "Enterprises, construction sites, rental properties, patrol zones,"
        " quarantine sites and administrative areas of Changle District, with their flags",
        "links": [
            *self_links(root, JSON),
            link(f"{root}/api", "service-desc", openapi.OPENAPI, "the API as OpenAPI 3.0"),
            link(f"{root}/api?f=html", "service-doc", HTML, "the API, to read"),
            link(f"{root}/conformance", "conformance", JSON, "conformance classes"),
            link(f"{root}/collections", "data", JSON, "the collections"),
        ],
    }
    if wants_html(request, given):
        return HTMLResponse(
            html.page(body["title"], f"<p>{body['description']}</p>", body["links"])
        )
    return _json(body)


@_door
async def conformance(request: Request) -> Response:
    given = params.checked(request, ("f",))
    body = {"conformsTo": CONFORMANCE, "links": self_links(f"{_root(request)}/conformance", JSON)}
    if wants_html(request, given):
        rows = [{"class": {"href": uri, "title": uri}} for uri in CONFORMANCE]
        return HTMLResponse(html.page("Conformance", html.table(rows, ["class"]), body["links"]))
    return _json(body)


@_door
async def api_document(request: Request) -> Response:
    given = params.checked(request, ("f",))
    document = openapi.document(_root(request), request.app.state.settings.max_page_size)
    if wants_html(request, given):
        rows = [
            {"path": path, "summary": operation["get"]["summary"]}
            for path, operation in document["paths"].items()
        ]
        links = [link(f"{_root(request)}/api?f=json", "service-desc", openapi.OPENAPI)]
        return HTMLResponse(
            html.page(document["info"]["title"], html.table(rows, ["path", "summary"]), links)
        )
    return _json(document, openapi.OPENAPI)


def _extents(session: Session, chosen: list[Collection]) -> list[features.Extent]:
    return [features.extent(session, collection) for collection in chosen]


@_door
async def collections(request: Request) -> Response:
    given = params.checked(request, ("f",))
    caller = request.state.caller
    chosen = [c for c in COLLECTIONS.values() if sees_layer(c.layer, caller)]
    extents = await _read(request, _extents, chosen)
    url = f"{_root(request)}/collections"
    body = {
        "links": self_links(url, JSON),
        "collections": [
            describe(_root(request), c, e) for c, e in zip(chosen, extents, strict=True)
        ],
    }
    if wants_html(request, given):
        rows = [
            {
                "collection": {"href": f"{url}/{c['id']}?f=html", "title": c["title"]},
                "id": c["id"],
                "description": c["description"],
            }
            for c in body["collections"]
        ]
        return HTMLResponse(
            html.page(
                "Collections", html.table(rows, ["collection", "id", "description"]), body["links"]
            )
        )
    return _json(body)


@_door
async def collection(request: Request) -> Response:
    given = params.checked(request, ("f",))
    chosen = _collection(request)
    [extent] = await _read(request, _extents, [chosen])
    body = describe(_root(request), chosen, extent)
    if wants_html(request, given):
        shown = {k: body[k] for k in ("id", "description", "crs", "storageCrs")} | {
            "extent": orjson.dumps(body.get("extent")).decode()
        }
        return HTMLResponse(html.page(chosen.title, html.pairs(shown), body["links"]))
    return _json(body)


@_door
async def queryables(request: Request) -> Response:
    given = params.checked(request, ("f",))
    chosen = _collection(request)
    url = f"{_root(request)}/collections/{chosen.id}/queryables"
    body = documents.queryables(url, chosen)
    properties = body["properties"]
    if wants_html(request, given):
        rows = [{"name": name, **schema} for name, schema in properties.items()]
        return HTMLResponse(
            html.page(
                f"Queryables of {chosen.id}",
                html.table(rows, ["name", "type", "format", "enum", "description"]),
                self_links(url, SCHEMA),
            )
        )
    return _json(body, SCHEMA)


def _items(
    session: Session, request: Request, chosen: Collection, asked: params.Items
) -> features.Items:
    clauses = params.clauses(session, chosen, asked)
    return features.items(
        session, request.state.caller, chosen, asked.frame, clauses, asked.limit, asked.cursor
    )


@_door
async def items(request: Request) -> Response:
    chosen = _collection(request)
    asked = params.items(request, chosen, request.app.state.settings.max_page_size)
    page = wants_html(request, {k: v for k, v in request.query_params.items() if k == "f"})
    if page:  # the map draws longitude and latitude, whatever `crs` asks of the data
        asked = replace(asked, crs_uri=crs.CRS84)
    found = await _read(request, _items, request, chosen, asked)
    refused = await _audited(request, found.reads)
    if refused is not None:
        return refused
    url = f"{_root(request)}/collections/{chosen.id}/items"
    query = {k: v for k, v in request.query_params.items() if k not in ("f", "cursor")}
    links = self_links(f"{url}?{urlencode(query)}" if query else url, openapi.GEOJSON)
    if found.next_cursor is not None:
        following = urlencode(query | {"cursor": found.next_cursor})
        links.append(link(f"{url}?{following}&f=json", "next", openapi.GEOJSON, "the next page"))
    links.append(
        link(f"{_root(request)}/collections/{chosen.id}", "collection", JSON, chosen.title)
    )
    headers = {"Content-Crs": f"<{asked.crs_uri}>"}
    if page:
        parsed = [_with_link(feature, url) for feature in orjson.loads(found.features)]
        counts = f"<p>{len(parsed)} of {found.matched} features.</p>"
        return HTMLResponse(
            html.page(chosen.title, html.features(parsed, counts), links), headers=headers
        )
    rest = {
        "numberMatched": found.matched,
        "numberReturned": found.returned,
        "timeStamp": iso(datetime.now(UTC)),
        "links": links,
    }
    body = (
        b'{"type":"FeatureCollection","features":' + found.features + b"," + orjson.dumps(rest)[1:]
    )
    return Response(body, media_type=openapi.GEOJSON, headers=headers)


def _with_link(feature: dict[str, Any], items_url: str) -> dict[str, Any]:
    return feature | {"links": [link(f"{items_url}/{feature['id']}", "self", openapi.GEOJSON)]}


@_door
async def item(request: Request) -> Response:
    chosen = _collection(request)
    given = params.checked(request, ("f", "crs"))
    page = wants_html(request, given)
    crs_uri = crs.CRS84 if page else crs.uri(given.get("crs"), "crs")
    feature_id = request.path_params["feature_id"]
    type_name, _, number = feature_id.partition(":")
    missing = NotFound(
        f"no feature {feature_id!r} in {chosen.id} that you may see"
        f" (ids read {chosen.layer.type_name}:42)"
    )
    if type_name != chosen.layer.type_name or not (number.isascii() and number.isdigit()):
        raise missing
    found = await _read(
        request, features.item, request.state.caller, chosen, int(number), crs.FRAMES[crs_uri]
    )
    if not found.returned:
        raise missing
    refused = await _audited(request, found.reads)
    if refused is not None:
        return refused
    url = f"{_root(request)}/collections/{chosen.id}/items"
    feature = _with_link(orjson.loads(found.features)[0], url)
    feature["links"] += [
        link(f"{url}/{feature_id}?f=html", "alternate", HTML),
        link(f"{_root(request)}/collections/{chosen.id}", "collection", JSON, chosen.title),
    ]
    headers = {"Content-Crs": f"<{crs_uri}>"}
    if page:
        body = html.svg([feature]) + html.pairs(feature["properties"])
        return HTMLResponse(html.page(feature_id, body, feature["links"]), headers=headers)
    return _json(feature, openapi.GEOJSON, headers)
