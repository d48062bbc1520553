"""The scenarios of issue 6, each as the request fugong, the raw baseline and PostGraphile get
(None where PostGraphile has no equivalent), with a viewport found by counting."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import psycopg2

from bench.load import Request

CENTRE = (119.578, 25.872)
TARGET_FEATURES = 1000
NEAR_RADIUS_M = 2000
NEAR_FIRST = 50
PAST_DAY = "2020-02-20"
TILE_ZOOMS = (12, 15)
MAX_FEATURES = 10_000  # fugong's default FUGONG_MAX_FEATURES; features asks for every match

TYPED_NODE = "id name category staffTotal flag { color reason } area { name } geometry"
PG_NODE = "id name category staffTotal flagColor flagReason areaByAreaId { name } geom { geojson }"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    fugong: Request
    raw: Request
    postgraphile: Request | None
    spec: list[Any]  # the baseline's statement: [kind, *args]


def viewport(database_url: str) -> tuple[list[float], int]:
    """A square around CENTRE holding about TARGET_FEATURES enterprises (bisection on its side)."""
    low, high = 0.0005, 0.5
    with psycopg2.connect(database_url, connect_timeout=10) as connection:
        with connection.cursor() as cursor:
            for _ in range(30):  # bounded: halves the interval each time
                half = (low + high) / 2
                count = _count(cursor, _square(half))
                if abs(count - TARGET_FEATURES) <= TARGET_FEATURES * 0.02:
                    break
                low, high = (half, high) if count < TARGET_FEATURES else (low, half)
    return _square(half), count


def _square(half_deg: float) -> list[float]:
    x, y = CENTRE
    return [
        round(x - half_deg, 6),
        round(y - half_deg, 6),
        round(x + half_deg, 6),
        round(y + half_deg, 6),
    ]


def _count(cursor: Any, bbox: list[float]) -> int:
    cursor.execute(
        "SELECT count(*) FROM enterprise"
        " WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        bbox,
    )
    return int(cursor.fetchone()[0])


def tile_at(z: int, lon: float, lat: float) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def graphql(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def polygon(bbox: list[float]) -> dict[str, Any]:
    x0, y0, x1, y1 = bbox
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {
        "type": "Polygon",
        "coordinates": [ring],
        "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
    }


def typed(where: str, first: int, extra: str = "") -> bytes:
    """fugong's typed connection, the fields of issue 6 (b)."""
    node = f"{TYPED_NODE} {extra}".strip()
    return graphql(
        f"{{ enterprises(where: {where}, first: {first}) {{ edges {{ node {{ {node} }} }} }} }}"
    )


def pg_typed(first: int | None, node: str) -> bytes:
    """PostGraphile's equivalent: connection-filter-postgis' `intersects`, in id order."""
    page = "" if first is None else f", first: {first}"
    query = (
        "query($box: GeoJSON!) { allEnterprises(filter: {geom: {intersects: $box}}, "
        f"orderBy: PRIMARY_KEY_ASC{page}) {{ nodes {{ {node} }} }} }}"
    )
    return query.encode()


def all_scenarios(bbox: list[float], token: str) -> list[Scenario]:
    auth = f"Bearer {token}"
    box = json.dumps(bbox)
    pg_box = {"box": polygon(bbox)}

    def post(body: bytes) -> Request:
        return Request("POST", "/graphql", body, auth)

    def raw(name: str) -> Request:
        return Request("GET", f"/s/{name}")

    def pg(first: int | None, node: str) -> Request:
        return Request("POST", "/graphql", graphql(pg_typed(first, node).decode(), pg_box))

    # PostGraphile has no FeatureCollection: (a) is the same rows and properties, typed.
    pg_features = (
        "id name category resumption flagColor staffTotal staffReturned capacityPct"
        " geom { geojson }"
    )
    found = [
        Scenario(
            "a_features",
            f"(a) features(layer: ENTERPRISES, where: {{bbox}}), bbox {box}",
            post(graphql(f"{{ features(layer: ENTERPRISES, where: {{bbox: {box}}}) }}")),
            raw("a_features"),
            pg(None, pg_features),
            ["features", bbox, MAX_FEATURES + 1],
        )
    ]
    for first in (100, 1000):
        found.append(
            Scenario(
                f"b_enterprises_{first}",
                f"(b) enterprises(where: {{bbox}}, first: {first}) typed",
                post(typed(f"{{bbox: {box}}}", first)),
                raw(f"b_enterprises_{first}"),
                pg(first, PG_NODE),
                ["enterprises", bbox, first],
            )
        )
    point = f'{{type: "Point", coordinates: {json.dumps(list(CENTRE))}}}'
    found.append(
        Scenario(
            "c_near",
            f"(c) enterprises(where: {{near: 2 km}}, first: {NEAR_FIRST}), nearest first",
            post(
                typed(
                    f"{{near: {{point: {point}, radiusMeters: {NEAR_RADIUS_M}}}}}",
                    NEAR_FIRST,
                    "distanceMeters",
                )
            ),
            raw("c_near"),
            None,
            ["near", list(CENTRE), NEAR_RADIUS_M, NEAR_FIRST],
        )
    )
    counts = "area { code name } counts { green yellow red total }"
    for label, day in (("today", None), ("past", PAST_DAY)):
        argument = "" if day is None else f'(date: "{day}")'
        found.append(
            Scenario(
                f"d_counts_{label}",
                f"(d) flagCounts{argument or ' (today)'}",
                post(graphql(f"{{ flagCounts{argument} {{ {counts} }} }}")),
                raw(f"d_counts_{label}"),
                None,
                ["counts", day],
            )
        )
    for zoom in TILE_ZOOMS:
        z, x, y = tile_at(zoom, *CENTRE)
        found.append(
            Scenario(
                f"e_tile_z{z}",
                f"(e) GET /tiles/enterprises/{z}/{x}/{y}.mvt",
                Request("GET", f"/tiles/enterprises/{z}/{x}/{y}.mvt", None, auth),
                raw(f"e_tile_z{z}"),
                None,
                ["tile", z, x, y],
            )
        )
    return found
