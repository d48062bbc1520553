"""The OGC API door's HTML view, for a person with a browser: each resource as a small page,
and features as a table beside an inline SVG map of their geometries (no script, no tiles, so
nothing is fetched from elsewhere)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 420
FLAG_FILL = {"GREEN": "#2e7d32", "YELLOW": "#f9a825", "RED": "#c62828"}
STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}
svg{border:1px solid #ccc;background:#f8faf8}nav a{margin-right:1rem}.links li{margin:.1rem 0}"""


def page(title: str, body: str, links: Sequence[dict[str, Any]]) -> str:
    """A whole page: the title, the body, and the resource's links to follow."""
    listed = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>'
        f" ({escape(link['rel'])}, {escape(link.get('type', ''))})</li>"
        for link in links
        if link["rel"] != "self"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title><meta name="viewport" content="width=device-width"><style>{STYLE}</style>'
        f"</head><body><h1>{escape(title)}</h1>{body}<h2>Links</h2>"
        f'<ul class="links">{listed}</ul></body></html>'
    )


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(column))}</td>" for column in columns) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pairs(values: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in values.items())
    return f"<table>{rows}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, dict) and "href" in value:
        title = escape(str(value.get("title", value["href"])))
        return f'<a href="{escape(value["href"])}">{title}</a>'
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return "" if value is None else escape(str(value))


def features(features: Sequence[dict[str, Any]], body: str) -> str:
    """A map of the features, then a table of their properties with links to each."""
    columns = list(dict.fromkeys(n for f in features for n in f.get("properties") or {}))
    rows = [
        {"id": {"href": feature["links"][0]["href"], "title": feature["id"]}}
        | (feature.get("properties") or {})
        for feature in features
    ]
    return body + svg(features) + table(rows, ["id", *columns])


def svg(features: Sequence[dict[str, Any]]) -> str:
    """Longitude and latitude drawn to scale at the features' middle latitude."""
    points = [p for feature in features for p in _positions(feature.get("geometry"))]
    if not points:
        return "<p>No features here.</p>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    squeeze = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span = max((max(xs) - min(xs)) * squeeze, max(ys) - min(ys), 1e-6)
    scale = min(WIDTH, HEIGHT) / span * 0.95

    def at(position: Sequence[float]) -> str:
        x = (position[0] - min(xs)) * squeeze * scale + 10
        y = (max(ys) - position[1]) * scale + 10
        return f"{x:.1f},{y:.1f}"

    shapes = [_shape(feature, at) for feature in features]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 20}" height="{HEIGHT + 20}"'
        f' role="img" aria-label="map of the features">{"".join(shapes)}</svg>'
    )


def _shape(feature: dict[str, Any], at: Any) -> str:
    geometry = feature.get("geometry") or {}
    fill = FLAG_FILL.get((feature.get("properties") or {}).get("flag"), "#1565c0")
    title = f"<title>{escape(str(feature.get('id')))}</title>"
    if geometry.get("type") in ("Point", "MultiPoint"):
        return "".join(
            f'<circle cx="{x}" cy="{y}" r="3" fill="{fill}">{title}</circle>'
            for x, y in (at(p).split(",") for p in _positions(geometry))
        )
    rings = [ring for polygon in _polygons(geometry) for ring in polygon]
    path = " ".join("M" + " L".join(at(p) for p in ring) + " Z" for ring in rings)
    return (
        f'<path d="{path}" fill="{fill}" fill-opacity="0.25" stroke="{fill}"'
        f' stroke-width="1" fill-rule="evenodd">{title}</path>'
    )


def _polygons(geometry: dict[str, Any]) -> list[Any]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    return [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []


def _positions(geometry: Any) -> Iterator[Sequence[float]]:
    def walk(value: Any) -> Iterator[Sequence[float]]:
        if value and isinstance(value[0], int | float):
            yield value
        else:
            for part in value:
                yield from walk(part)

    if isinstance(geometry, dict):
        yield from walk(geometry.get("coordinates") or [])
