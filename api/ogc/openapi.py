"""The OpenAPI 3.0 document of the OGC API door: a path per collection, so that clients (GDAL
reads the `items` parameters) see each one's queryables and filter languages."""

from __future__ import annotations

from typing import Any

from api.ogc import crs
from api.ogc.params import DEFAULT_LIMIT
from api.ogc.problems import PROBLEM
from geo.cql2 import LANGUAGES, MAX_FILTER_CHARS
from geo.features import COLLECTIONS, Collection, json_schema

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"


def document(server: str, max_limit: int) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": _get("The landing page", "application/json", "landing"),
        "/conformance": _get(
            "The conformance classes implemented", "application/json", "conformance"
        ),
        "/api": _get("This document", OPENAPI, "api"),
        "/collections": _get(
            "The collections (one per map layer)", "application/json", "collections"
        ),
    }
    for collection in COLLECTIONS.values():
        base = f"/collections/{collection.id}"
        paths[base] = _get(collection.title, "application/json", f"{collection.id}-collection")
        paths[f"{base}/items"] = _items(collection, max_limit)
        paths[f"{base}/items/{{featureId}}"] = _item(collection)
        paths[f"{base}/queryables"] = _get(
            f"What {collection.title.lower()} can be filtered by",
            "application/schema+json",
            f"{collection.id}-queryables",
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "fugong 复工: OGC API – Features",
            "version": "1.0.0",
            "description": "The map layers of fugong under the caller's scope. Send the token of"
            " the GraphQL `login` mutation as `Authorization: Bearer <token>`; without it, what"
            " anyone may see.",
        },
        "servers": [{"url": server}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": {"Problem": _problem_schema()},
            "responses": {
                "Problem": {
                    "description": "A parameter or filter not served, or no such resource",
                    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            },
        },
        "security": [{}, {"bearer": []}],
        "paths": paths,
    }


def _get(
    summary: str,
    media_type: str,
    operation: str,
    parameters: list[Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    content = {
        media_type: {"schema": {"type": "object"}},
        "text/html": {"schema": {"type": "string"}},
    }
    return {
        "get": {
            "summary": summary,
            "operationId": operation,
            "parameters": [
                _parameter(
                    "f",
                    "json or html (else by Accept)",
                    {"type": "string", "enum": ["json", "html"]},
                ),
                *(parameters or []),
            ],
            "responses": {
                "200": {"description": summary, "content": content, **(extra or {})},
                "400": {"$ref": "#/components/responses/Problem"},
                "404": {"$ref": "#/components/responses/Problem"},
            },
        }
    }


def _parameter(
    name: str, description: str, schema: dict[str, Any], style: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **(style or {}),
    }


def _crs(name: str, description: str) -> dict[str, Any]:
    return _parameter(name, description, {"type": "string", "format": "uri", "enum": crs.SUPPORTED})


def _items(collection: Collection, max_limit: int) -> dict[str, Any]:
    parameters = [
        _parameter(
            "limit",
            "Features per page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": max_limit,
                "default": min(DEFAULT_LIMIT, max_limit),
            },
        ),
        _parameter(
            "bbox",
            "minx,miny,maxx,maxy in bbox-crs",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            {"style": "form", "explode": False},
        ),
        _crs("bbox-crs", "The CRS of bbox; CRS84 if left out"),
        _crs("crs", "The CRS of the geometries answered; CRS84 if left out"),
        _parameter(
            "filter",
            f"A CQL2 filter over the queryables, at most {MAX_FILTER_CHARS} characters",
            {"type": "string", "maxLength": MAX_FILTER_CHARS},
        ),
        _parameter(
            "filter-lang",
            "The language of filter",
            {"type": "string", "enum": list(LANGUAGES), "default": LANGUAGES[0]},
        ),
        _crs("filter-crs", "The CRS of the geometries in filter; CRS84 if left out"),
        _parameter("cursor", "Where a page starts: from a `next` link", {"type": "string"}),
    ]
    if collection.time is not None:
        parameters.append(
            _parameter(
                "datetime",
                f"An instant, a date or an interval (a/b, .. open) of {collection.time}",
                {"type": "string"},
            )
        )
    parameters += [
        _parameter(name, f"Features whose {name} equals this", _query_schema(json_schema(sql)))
        for name, sql in collection.properties.items()
    ]
    headers = {
        "Content-Crs": {
            "description": "The CRS of the geometries, in <>",
            "schema": {"type": "string"},
        }
    }
    operation = _get(
        f"The {collection.title.lower()}",
        GEOJSON,
        f"{collection.id}-items",
        parameters,
        {"headers": headers},
    )
    return operation


def _item(collection: Collection) -> dict[str, Any]:
    operation = _get(
        f"One of the {collection.title.lower()}",
        GEOJSON,
        f"{collection.id}-item",
        [_crs("crs", "The CRS of the geometry answered")],
    )
    operation["get"]["parameters"].append(
        {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": f"The feature's id, as {collection.layer.type_name}:42",
            "schema": {"type": "string"},
        }
    )
    return operation


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI 3.0 knows no date-time format on a query string beyond a string's.
    return {key: value for key, value in schema.items() if key != "format"} | (
        {"format": "date-time"} if schema.get("format") == "date-time" else {}
    )


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "description": "BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, …",
            },
        },
    }
