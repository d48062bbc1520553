"""GET /ogc/…: OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering) over the map
layers, for QGIS, ArcGIS and GDAL. The caller, scope, masking and audit are GraphQL's own:
pages come from geo.queries, personal data through geo.privacy, reads into geo.audit."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.ogc import crs, html, openapi, params, problems
from api.settings import get_settings
from geo import audit, features
from geo.errors import FugongError, NotFound
from geo.features import COLLECTIONS, Collection
from geo.scope import sees_layer

log = logging.getLogger("fugong.ogc")
T = TypeVar("T")
JSON = "application/json"
SCHEMA = "application/schema+json"
HTML = "text/html"
SPEC = "http://www.opengis.net/spec/"
CONFORMANCE = [
    f"{SPEC}ogcapi-features-1/1.0/conf/core",
    f"{SPEC}ogcapi-features-1/1.0/conf/oas30",
    f"{SPEC}ogcapi-features-1/1.0/conf/geojson",
    f"{SPEC}ogcapi-features-1/1.0/conf/html",
    f"{SPEC}ogcapi-features-2/1.0/conf/crs",
    f"{SPEC}ogcapi-features-3/1.0/conf/queryables",
    f"{SPEC}ogcapi-features-3/1.0/conf/queryables-query-parameters",
    f"{SPEC}ogcapi-features-3/1.0/conf/filter",
    f"{SPEC}ogcapi-features-3/1.0/conf/features-filter",
    f"{SPEC}cql2/1.0/conf/cql2-text",
    f"{SPEC}cql2/1.0/conf/cql2-json",
    f"{SPEC}cql2/1.0/conf/basic-cql2",
    f"{SPEC}cql2/1.0/conf/advanced-comparison-operators",
    f"{SPEC}cql2/1.0/conf/basic-spatial-functions",
]


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
    state = request.app.state

    def run() -> T:
        with (state.read_sessions or state.sessions)() as session:
            return work(session, *args)

    return await run_in_threadpool(run)


async def _audited(request: Request, reads: list[tuple[str, str]]) -> Response | None:
    """Full reads of personal data into the audit log before the answer leaves; if the log
    cannot be written, nothing is sent (as GraphQL's AuditPersonalReads)."""
    if not reads:
        return None
    caller = request.state.caller

    def write() -> None:
        with request.app.state.sessions.begin() as session:
            audit.record_reads(session, caller, reads)

    try:
        await run_in_threadpool(write)
    except Exception:  # noqa: BLE001 - any failure must withhold the data
        log.exception("personal data read through /ogc could not be audited")
        return problems.problem(
            503, "INTERNAL_SERVER_ERROR", "personal data was read but not audited"
        )
    return None


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _html(request: Request, given: dict[str, str]) -> bool:
    """f=html or f=json, else the Accept header: HTML only when a browser prefers it."""
    if "f" in given:
        return given["f"] == "html"
    accept = request.headers.get("accept", "")
    ranked = [part.split(";")[0].strip() for part in accept.split(",")]
    html_at = ranked.index(HTML) if HTML in ranked else None
    json_at = [i for i, kind in enumerate(ranked) if kind.endswith("json")]
    return html_at is not None and (not json_at or html_at < min(json_at))


def _link(href: str, rel: str, kind: str, title: str = "") -> dict[str, str]:
    return {"href": href, "rel": rel, "type": kind, **({"title": title} if title else {})}


def _self(url: str, kind: str, html_too: bool = True) -> list[dict[str, str]]:
    mark = "&" if "?" in url else "?"
    links = [_link(f"{url}{mark}f=json" if html_too else url, "self", kind, "this document")]
    if html_too:
        links.append(_link(f"{url}{mark}f=html", "alternate", HTML, "this document as HTML"))
    return links


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
            *_self(root, JSON),
            _link(f"{root}/api", "service-desc", openapi.OPENAPI, "the API as OpenAPI 3.0"),
            _link(f"{root}/api?f=html", "service-doc", HTML, "the API, to read"),
            _link(f"{root}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{root}/collections", "data", JSON, "the collections"),
        ],
    }
    if _html(request, given):
        return HTMLResponse(
            html.page(body["title"], f"<p>{body['description']}</p>", body["links"])
        )
    return _json(body)


@_door
async def conformance(request: Request) -> Response:
    given = params.checked(request, ("f",))
    body = {"conformsTo": CONFORMANCE, "links": _self(f"{_root(request)}/conformance", JSON)}
    if _html(request, given):
        rows = [{"class": {"href": uri, "title": uri}} for uri in CONFORMANCE]
        return HTMLResponse(html.page("Conformance", html.table(rows, ["class"]), body["links"]))
    return _json(body)


@_door
async def api_document(request: Request) -> Response:
    given = params.checked(request, ("f",))
    document = openapi.document(_root(request), get_settings().max_page_size)
    if _html(request, given):
        rows = [
            {"path": path, "summary": operation["get"]["summary"]}
            for path, operation in document["paths"].items()
        ]
        links = [_link(f"{_root(request)}/api?f=json", "service-desc", openapi.OPENAPI)]
        return HTMLResponse(
            html.page(document["info"]["title"], html.table(rows, ["path", "summary"]), links)
        )
    return _json(document, openapi.OPENAPI)


def _describe(request: Request, collection: Collection, extent: features.Extent) -> dict[str, Any]:
    url = f"{_root(request)}/collections/{collection.id}"
    spatial = {"bbox": [extent.bbox], "crs": crs.CRS84} if extent.bbox else None
    temporal = (
        {
            "interval": [[_iso(t) for t in extent.interval]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
        if extent.interval
        else None
    )
    described: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": crs.SUPPORTED,
        "storageCrs": crs.CRS84,
        "links": [
            *_self(url, JSON),
            _link(f"{url}/items?f=json", "items", openapi.GEOJSON, "the features"),
            _link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
            _link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA,
                "queryables",
            ),
        ],
    }
    extents = {"spatial": spatial, "temporal": temporal}
    if any(extents.values()):
        described["extent"] = {k: v for k, v in extents.items() if v is not None}
    return described


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
        "links": _self(url, JSON),
        "collections": [_describe(request, c, e) for c, e in zip(chosen, extents, strict=True)],
    }
    if _html(request, given):
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
    body = _describe(request, chosen, extent)
    if _html(request, given):
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
    properties: dict[str, Any] = {
        "geometry": {
            "format": f"geometry-{chosen.layer.geometry.type.geometry_type.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for name, sql in chosen.properties.items():
        properties[name] = {"title": name, **features.json_schema(sql)}
    properties[features.AREA_CODE]["description"] = (
        "An administrative area; the areas below it count too"
    )
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": chosen.title,
        "properties": properties,
        "additionalProperties": False,
    }
    if _html(request, given):
        rows = [{"name": name, **schema} for name, schema in properties.items()]
        return HTMLResponse(
            html.page(
                f"Queryables of {chosen.id}",
                html.table(rows, ["name", "type", "format", "enum", "description"]),
                _self(url, SCHEMA),
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
    asked = params.items(request, chosen, get_settings().max_page_size)
    found = await _read(request, _items, request, chosen, asked)
    refused = await _audited(request, found.reads)
    if refused is not None:
        return refused
    url = f"{_root(request)}/collections/{chosen.id}/items"
    query = {k: v for k, v in request.query_params.items() if k not in ("f", "cursor")}
    links = _self(f"{url}?{urlencode(query)}" if query else url, openapi.GEOJSON)
    if found.next_cursor is not None:
        following = urlencode(query | {"cursor": found.next_cursor})
        links.append(_link(f"{url}?{following}&f=json", "next", openapi.GEOJSON, "the next page"))
    links.append(
        _link(f"{_root(request)}/collections/{chosen.id}", "collection", JSON, chosen.title)
    )
    headers = {"Content-Crs": f"<{asked.crs_uri}>"}
    if _html(request, {k: v for k, v in request.query_params.items() if k == "f"}):
        parsed = [_with_link(orjson.loads(text), url) for text in found.features]
        counts = f"<p>{len(parsed)} of {found.matched} features.</p>"
        return HTMLResponse(
            html.page(chosen.title, html.features({}, parsed, counts), links), headers=headers
        )
    rest = {
        "numberMatched": found.matched,
        "numberReturned": len(found.features),
        "timeStamp": _iso(datetime.now(UTC)),
        "links": links,
    }
    body = (
        b'{"type":"FeatureCollection","features":['
        + b",".join(found.features)
        + b"],"
        + orjson.dumps(rest)[1:]
    )
    return Response(body, media_type=openapi.GEOJSON, headers=headers)


def _with_link(feature: dict[str, Any], items_url: str) -> dict[str, Any]:
    return feature | {"links": [_link(f"{items_url}/{feature['id']}", "self", openapi.GEOJSON)]}


@_door
async def item(request: Request) -> Response:
    chosen = _collection(request)
    given = params.checked(request, ("f", "crs"))
    crs_uri = crs.uri(given.get("crs"), "crs")
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
    if not found.features:
        raise missing
    refused = await _audited(request, found.reads)
    if refused is not None:
        return refused
    url = f"{_root(request)}/collections/{chosen.id}/items"
    feature = _with_link(orjson.loads(found.features[0]), url)
    feature["links"] += [
        _link(f"{url}/{feature_id}?f=html", "alternate", HTML),
        _link(f"{_root(request)}/collections/{chosen.id}", "collection", JSON, chosen.title),
    ]
    headers = {"Content-Crs": f"<{crs_uri}>"}
    if _html(request, given):
        body = html.svg([feature]) + html.pairs(feature["properties"])
        return HTMLResponse(html.page(feature_id, body, feature["links"]), headers=headers)
    return _json(feature, openapi.GEOJSON, headers)
