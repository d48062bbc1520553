"""The documents of the OGC API door, as JSON: links, conformance, collections, queryables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from api.ogc import crs, openapi
from geo import features
from geo.features import Collection

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


def wants_html(request: Request, given: dict[str, str]) -> bool:
    """f=html or f=json, else the Accept header: HTML only when a browser prefers it."""
    if "f" in given:
        return given["f"] == "html"
    accept = request.headers.get("accept", "")
    ranked = [part.split(";")[0].strip() for part in accept.split(",")]
    html_at = ranked.index(HTML) if HTML in ranked else None
    json_at = [i for i, kind in enumerate(ranked) if kind.endswith("json")]
    return html_at is not None and (not json_at or html_at < min(json_at))


def link(href: str, rel: str, kind: str, title: str = "") -> dict[str, str]:
    return {"href": href, "rel": rel, "type": kind, **({"title": title} if title else {})}


def self_links(url: str, kind: str, html_too: bool = True) -> list[dict[str, str]]:
    mark = "&" if "?" in url else "?"
    links = [link(f"{url}{mark}f=json" if html_too else url, "self", kind, "this document")]
    if html_too:
        links.append(link(f"{url}{mark}f=html", "alternate", HTML, "this document as HTML"))
    return links


def describe(root: str, collection: Collection, extent: features.Extent) -> dict[str, Any]:
    url = f"{root}/collections/{collection.id}"
    spatial = {"bbox": [extent.bbox], "crs": crs.CRS84} if extent.bbox else None
    temporal = (
        {
            "interval": [[iso(t) for t in extent.interval]],
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
            *self_links(url, JSON),
            link(f"{url}/items?f=json", "items", openapi.GEOJSON, "the features"),
            link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
            link(
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


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def queryables(url: str, chosen: Collection) -> dict[str, Any]:
    """The JSON Schema of what a collection's features can be filtered by (Part 3)."""
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
    return body
