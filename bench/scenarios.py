"""The scenarios of issues 6, 14 and 18, each as the request fugong, the raw baseline,
PostGraphile and tipg get (None where one has no equivalent), with a viewport and a patrol zone
found by counting, and the mix of (g) as the demo inspector and town officer."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg2

from bench.load import Request
from geo import due
from geo.db import make_engine

CENTRE = (119.578, 25.872)
TARGET_FEATURES = 1000
NEAR_RADIUS_M = 2000
NEAR_FIRST = 50
PAST_DAY = "2020-02-20"
TILE_ZOOMS = (12, 15)
MAX_FEATURES = 10_000  # fugong's default FUGONG_MAX_FEATURES; features asks for every match
ROUTE_DAY = "2020-02-27"  # the demo's last day: a fixed day, so every run plans the same targets
TARGET_DUE = 100
SHORTLIST = 5  # zones whose targets, counted in SQL, are nearest TARGET_DUE; then the rules decide
MIX_ROLES = ("inspector", "town")  # (g): the demo accounts whose scope the mix measures
MIXED = "abcdef"  # the scenarios (g) mixes
MAP_CRS = "GCJ02"  # (h): /map draws its overlays in the base map's CRS, AMap's and Tencent's
BRIEFING_AREA = "350112"  # (i): the district, the demo district officer's area
OGC_PAGE = 100  # (j): items?limit=100, and the viewport's ~1,000 in one page of the most /ogc
OGC_VIEWPORT_LIMIT = 1000  # gives (FUGONG_MAX_PAGE_SIZE)
OGC_ITEMS = "/ogc/collections/enterprises/items"
# tipg serves the table as it is: the same properties where it has them (it has no areaCode).
TIPG_ITEMS = (
    "/collections/public.enterprise/items?properties=name,category,resumption,flag_color,"
    "staff_total,staff_returned,capacity_pct,flag_since"
)

TYPED_NODE = "id name category staffTotal flag { color reason } area { name } geometry"
PG_NODE = "id name category staffTotal flagColor flagReason areaByAreaId { name } geom { geojson }"
# What an inspector's phone pulls at the start of the day; no personal data (a rental's address
# would be an audited read, a write per request).
ROUTE_QUERY = (
    "query($zone: ID!, $day: Date!) { inspectionRoute(zoneId: $zone, date: $day) {"
    " date distanceModel routes { distanceMeters durationMinutes geometry stops {"
    " sequence reason plannedArrival target { ... on Node { id }"
    " ... on Enterprise { name } ... on ConstructionSite { name } } } }"
    " unvisited { ... on Node { id } } } }"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    fugong: Request
    raw: Request
    postgraphile: Request | None
    spec: list[Any] | None  # the baseline's statement: [kind, *args]; None: no raw equivalent
    tipg: Request | None = None

    @property
    def letter(self) -> str:
        return self.name[0]


@dataclass(frozen=True)
class Zone:
    id: int
    due: int  # targets due on ROUTE_DAY


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


def route_zone(database_url: str) -> Zone:
    """The patrol zone whose targets due on ROUTE_DAY are nearest TARGET_DUE (then the lowest
    id): every zone's targets counted in SQL, the nearest few counted again by geo.due's rules."""
    shortlist = _rows(
        database_url,
        "SELECT id FROM (SELECT z.id,"
        " (SELECT count(*) FROM enterprise e WHERE ST_Intersects(e.geom, z.boundary))"
        " + (SELECT count(*) FROM construction_site s"
        "    WHERE ST_Intersects(s.footprint, z.boundary) OR ST_Intersects(s.entrance, z.boundary))"
        " + (SELECT count(*) FROM rental_property r WHERE ST_Intersects(r.geom, z.boundary))"
        " AS targets FROM patrol_zone z) AS counted ORDER BY abs(targets - %s), id LIMIT %s",
        (TARGET_DUE, SHORTLIST),
    )
    zones = _counted(database_url, [zone_id for (zone_id,) in shortlist])
    return min(zones, key=lambda z: (abs(z.due - TARGET_DUE), z.id))


def inspector_zone(database_url: str) -> Zone:
    """The demo inspector's zone (the first of theirs), with its targets due on ROUTE_DAY."""
    [(zone_id,)] = _rows(
        database_url,
        "SELECT min(l.zone_id) FROM account_zone l JOIN account a ON a.id = l.account_id"
        " WHERE a.username = %s",
        (MIX_ROLES[0],),
    )
    return _counted(database_url, [zone_id])[0]


def solves(database_url: str, zone: Zone) -> int | None:
    """How many times fugong has solved the zone's stored plans for ROUTE_DAY (table route_plan,
    counting each solve), or None when this build stores no plans."""
    [(stored,)] = _rows(database_url, "SELECT to_regclass('route_plan') IS NOT NULL", ())
    if not stored:
        return None
    [(count,)] = _rows(
        database_url,
        "SELECT coalesce(sum(solves), 0) FROM route_plan WHERE zone_id = %s AND day = %s",
        (zone.id, ROUTE_DAY),
    )
    return int(count)


def _rows(database_url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    connection = psycopg2.connect(database_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    finally:
        connection.close()


def _counted(database_url: str, zone_ids: list[int]) -> list[Zone]:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            day = date.fromisoformat(ROUTE_DAY)
            return [Zone(z, len(due.due_targets(connection, z, day))) for z in zone_ids]
    finally:
        engine.dispose()


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


def all_scenarios(bbox: list[float], token: str, zone: Zone | None) -> list[Scenario]:
    """(a)–(e) and (h)–(j) in the viewport, and (f) for the zone (none without one), called
    with the token (but (j): tipg has no accounts, so every server answers it anonymously)."""
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
            "(a) features(layer: ENTERPRISES, where: {bbox})",
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
    for letter, crs in (("e", None), ("h", MAP_CRS)):  # (h): the tiles of (e) as /map asks
        for zoom in TILE_ZOOMS:
            z, x, y = tile_at(zoom, *CENTRE)
            path = f"/tiles/enterprises/{z}/{x}/{y}.mvt" + (f"?crs={crs}" if crs else "")
            name = f"{letter}_tile_z{z}"
            found.append(
                Scenario(
                    name,
                    f"({letter}) GET {path}" if crs is None else f"(h) /map in {crs}: GET {path}",
                    Request("GET", path, None, auth),
                    raw(name),
                    None,
                    ["tile", z, x, y, *([crs] if crs else [])],
                )
            )
    found += briefing(auth, raw)
    found += ogc_items(bbox, raw)
    if zone is not None:
        found.append(
            Scenario(
                "f_route",
                f'(f) inspectionRoute(zoneId, date: "{ROUTE_DAY}"), the same zone and day again',
                post(graphql(ROUTE_QUERY, {"zone": f"PatrolZone:{zone.id}", "day": ROUTE_DAY})),
                raw("f_route"),
                None,
                ["due", zone.id, ROUTE_DAY],
            )
        )
    return found


def briefing(auth: str, raw: Any) -> list[Scenario]:
    """(i): the district officer's daily briefing of the demo's last day, and its chart."""
    counts = "{ green yellow red total }"
    red = (
        "target { ... on Node { id } ... on Enterprise { name } ... on ConstructionSite { name } }"
    )
    query = (
        "query($area: String!, $day: Date!) { dailyBriefing(areaCode: $area, date: $day) {"
        " date area { ...day } children { ...day } } }"
        f" fragment day on AreaBriefing {{ area {{ code name }} flagCounts {counts}"
        f" previousFlagCounts {counts} newReds {{ reason {red} }} redsTurnedGreen"
        " staleSignboards health { expected reported fever isolated }"
        " inspections { due visited } quarantine { sites bedsTotal bedsOccupied } }"
    )
    body = graphql(query, {"area": BRIEFING_AREA, "day": ROUTE_DAY})
    chart = f"/briefing/{BRIEFING_AREA}/{ROUTE_DAY}.svg"
    return [
        Scenario(
            "i_briefing",
            f'(i) dailyBriefing(areaCode: "{BRIEFING_AREA}", date: "{ROUTE_DAY}")',
            Request("POST", "/graphql", body, auth),
            raw("i_briefing"),
            None,
            ["briefing", BRIEFING_AREA, ROUTE_DAY],
        ),
        Scenario(
            "i_chart",
            f"(i) GET {chart}, the briefing's chart",
            Request("GET", chart, None, auth),
            raw("i_chart"),
            None,
            None,
        ),
    ]


def ogc_items(bbox: list[float], raw: Any) -> list[Scenario]:
    """(j): OGC API items of enterprises, the viewport's and the first page of the layer."""
    box = ",".join(map(str, bbox))
    pages = (
        ("j_ogc_bbox", f"bbox=…&limit={OGC_VIEWPORT_LIMIT}", bbox, OGC_VIEWPORT_LIMIT),
        ("j_ogc_page", f"limit={OGC_PAGE}", None, OGC_PAGE),
    )
    found = []
    for name, shown, box_of, limit in pages:
        asked = f"limit={limit}" if box_of is None else f"bbox={box}&limit={limit}"
        found.append(
            Scenario(
                name,
                f"(j) GET {OGC_ITEMS}?{shown}, anonymous",
                Request("GET", f"{OGC_ITEMS}?{asked}"),
                raw(name),
                None,
                ["ogc_items", box_of, limit],
                Request("GET", f"{TIPG_ITEMS}&{asked}"),
            )
        )
    return found


def mixed(bbox: list[float], tokens: dict[str, str], zone: Zone | None) -> list[Request]:
    """(g): fugong's request of every scenario once for each role of MIX_ROLES, in turn; the
    viewport, point and tiles are centred in the inspector's zone, in the town officer's town."""
    by_role = [
        [s for s in all_scenarios(bbox, tokens[role], zone) if s.letter in MIXED]
        for role in MIX_ROLES
    ]
    return [s.fugong for same in zip(*by_role, strict=True) for s in same]
