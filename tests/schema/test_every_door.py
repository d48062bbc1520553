"""Every role × every SpatialFilter member, alone and combined × every door: typed lists,
`features`, `node`, the OGC API's items, tiles (with their query parameters), route exports and
subscriptions.
No error but the coded ones, and each answer equal to an independent computation: shapely and
pyproj on the rows' geometries, prcoords for the Chinese datums, area subtrees walked in Python.

A role's rows come from the same tables as the authorization matrix (SEES, OWNS), so logging in
never shows less: for every role the rows seen include every row anonymous sees."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import prcoords
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text
from websockets.sync.client import connect

from geo import layers
from geo.db import make_engine
from tests.api.test_ogc import EPSG, OGC, every
from tests.api.test_tiles import gdal_features, tile_bounds, tile_of
from tests.conftest import GraphQLClient
from tests.live import PROTOCOL, login, post, ws_url
from tests.schema.test_authorization_matrix import LAYERS, ROLES, SEES

JINFENG, GUHUAI = "350112109", "350112110"
CENTRE = (119.578, 25.872)  # near Jinfeng's town government
GEOD = Geod(ellps="WGS84")
MERCATOR = Transformer.from_crs(3857, 4326, always_xy=True)
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
EDGE_DEG = 2e-5  # rows this close to a filter's edge (about 2 m) may go either way
EDGE_M = 2.0


@dataclass
class World:
    """The seeded rows as plain data: geometries, areas, and whose they are."""

    shapes: dict[str, dict[int, BaseGeometry]]  # by layer
    area_of: dict[str, dict[int, int | None]]  # row's area id, by layer
    parent: dict[int, int | None]
    codes: dict[str, int]
    town_id: int
    inspector_zones: list[int]

    def subtree(self, area_id: int) -> set[int]:
        found, grown = {area_id}, True
        while grown:
            more = {a for a, p in self.parent.items() if p in found} - found
            found |= more
            grown = bool(more)
        return found

    def in_area(self, layer: str, code: str) -> set[int]:
        below = self.subtree(self.codes[code])
        return {i for i, a in self.area_of[layer].items() if a in below}

    def rows(self, layer: str, rule: str) -> set[int]:
        everything = set(self.shapes[layer])
        if rule == "all":
            return everything
        if rule == "none":
            return set()
        if rule == "town":
            return {i for i, a in self.area_of[layer].items() if a in self.subtree(self.town_id)}
        if rule == "own":
            return set(self.inspector_zones)
        zones = shapely.union_all([self.shapes["PATROL_ZONES"][z] for z in self.inspector_zones])
        return {i for i, g in self.shapes[layer].items() if zones.intersects(g)}

    def seen(self, layer: str, role: str) -> set[int]:
        return self.rows(layer, SEES[layer][ROLES.index(role)])


@pytest.fixture(scope="module")
def world(engine: Engine) -> World:
    return load_world(engine)


def load_world(engine: Engine) -> World:
    with engine.connect() as db:
        shapes: dict[str, dict[int, BaseGeometry]] = {}
        area_of: dict[str, dict[int, int | None]] = {}
        for layer, (table, column, _, _) in LAYERS.items():
            area = "id" if table == "area" else "area_id"
            rows = db.execute(text(f"SELECT id, {area}, ST_AsBinary({column}) FROM {table}"))  # noqa: S608
            rows = rows.all()
            shapes[layer] = {i: wkb.loads(bytes(g)) for i, _, g in rows}
            area_of[layer] = {i: a for i, a, _ in rows}
        parent = dict(db.execute(text("SELECT id, parent_id FROM area")).all())
        codes = dict(db.execute(text("SELECT code, id FROM area")).all())
        town_id = db.execute(
            text("SELECT town_id FROM account WHERE username = 'town'")
        ).scalar_one()
        zones = list(db.execute(text(
            "SELECT zone_id FROM account_zone JOIN account a ON a.id = account_id"
            " WHERE a.username = 'inspector'"
        )).scalars())  # fmt: skip
    return World(shapes, area_of, parent, codes, town_id, zones)


# ---- the filters: each built in WGS84, sent in its CRS, and tested by shapely in WGS84 ----


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    return tuple(reversed(prcoords.wgs_gcj((lat, lon))))  # type: ignore[return-value]


def _bd(lon: float, lat: float) -> tuple[float, float]:
    return tuple(reversed(prcoords.wgs_bd((lat, lon))))  # type: ignore[return-value]


def _from_gcj(lon: float, lat: float) -> tuple[float, float]:
    return tuple(reversed(prcoords.gcj_wgs_bored((lat, lon))))  # type: ignore[return-value]


def _from_bd(lon: float, lat: float) -> tuple[float, float]:
    return tuple(reversed(prcoords.bd_wgs_bored((lat, lon))))  # type: ignore[return-value]


TO_CRS = {"WGS84": None, "CGCS2000": None, "GCJ02": _gcj, "BD09": _bd,
          "WEB_MERCATOR": TO_MERCATOR.transform}  # fmt: skip
FROM_CRS = {"WGS84": None, "CGCS2000": None, "GCJ02": _from_gcj, "BD09": _from_bd,
            "WEB_MERCATOR": MERCATOR.transform}  # fmt: skip


def _convert(shape: BaseGeometry, how: Any) -> BaseGeometry:
    """Each vertex through `how(lon, lat)`."""
    if how is None:
        return shape
    return shapely.transform(shape, lambda points: np.array([how(x, y) for x, y in points]))


@dataclass(frozen=True)
class Case:
    name: str
    area_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # WGS84
    within: BaseGeometry | None = None  # WGS84
    intersects: BaseGeometry | None = None
    near: tuple[float, float, float] | None = None  # lon, lat, radius in metres
    crs: str = "WGS84"

    def where(self) -> dict[str, Any]:
        """The SpatialFilter as a client sends it, every coordinate in `crs`."""
        to = TO_CRS[self.crs]
        where: dict[str, Any] = {"crs": self.crs}
        if self.area_code:
            where["areaCode"] = self.area_code
        if self.bbox:
            low, high = (self.bbox[:2], self.bbox[2:]) if to is None else (
                to(*self.bbox[:2]), to(*self.bbox[2:]))  # fmt: skip
            where["bbox"] = [*low, *high]
        for member in ("within", "intersects"):
            if (shape := getattr(self, member)) is not None:
                where[member] = shapely.geometry.mapping(_convert(shape, to))
        if self.near:
            lon, lat, radius = self.near
            point = (lon, lat) if to is None else to(lon, lat)
            where["near"] = {"point": {"type": "Point", "coordinates": list(point)},
                             "radiusMeters": radius}  # fmt: skip
        return where

    def sent_shapes(self) -> list[tuple[str, BaseGeometry]]:
        """The bbox, within and intersects shapes as the server reads them, back in WGS84,
        each with the test it makes of a row."""
        back, where, shapes = FROM_CRS[self.crs], self.where(), []
        if self.bbox:
            box = shapely.box(*where["bbox"])
            if self.crs in ("GCJ02", "BD09"):
                box = shapely.segmentize(box, 0.005)  # as the server bends its edges
            shapes.append(("intersects", _convert(box, back)))
        for member in ("within", "intersects"):
            if member in where:
                shapes.append((member, _convert(shapely.geometry.shape(where[member]), back)))
        return shapes

    def sent_centre(self) -> tuple[float, float]:
        """The `near` point as the server reads it, back in WGS84."""
        point = shapely.Point(self.where()["near"]["point"]["coordinates"])
        return shapely.get_coordinates(_convert(point, FROM_CRS[self.crs]))[0]


MATCHES: dict[tuple[str, str], tuple[set[int], set[int], dict[int, float]]] = {}


def matches(world: World, layer: str, case: Case) -> tuple[set[int], set[int], dict[int, float]]:
    if (layer, case.name) not in MATCHES:
        MATCHES[layer, case.name] = _matches(world, layer, case)
    return MATCHES[layer, case.name]


def _matches(world: World, layer: str, case: Case) -> tuple[set[int], set[int], dict[int, float]]:
    """The rows the filter selects, the rows too near one of its edges to call, and with
    `near` each row's distance in metres on the ellipsoid."""
    chosen, unsure, distances = set(world.shapes[layer]), set(), {}
    if case.area_code:
        chosen &= world.in_area(layer, case.area_code)
    tests = case.sent_shapes()
    for row_id, geom in world.shapes[layer].items():
        for how, shape in tests:
            inside = geom.within(shape) if how == "within" else geom.intersects(shape)
            if not inside:
                chosen.discard(row_id)
            if shape.boundary.distance(geom) < EDGE_DEG:
                unsure.add(row_id)
    if case.near:
        radius = case.near[2]
        lon, lat = case.sent_centre()
        local = Transformer.from_crs(4326, f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84",
                                     always_xy=True)  # fmt: skip
        for row_id, geom in world.shapes[layer].items():
            if isinstance(geom, shapely.Point):
                distance = GEOD.inv(lon, lat, geom.x, geom.y)[2]
            else:
                distance = shapely.Point(0, 0).distance(_convert(geom, local.transform))
            distances[row_id] = distance
            if distance > radius:
                chosen.discard(row_id)
            if abs(distance - radius) < EDGE_M:
                unsure.add(row_id)
    return chosen, unsure, distances


SQUARE = shapely.box(119.55, 25.85, 119.61, 25.90)
ROAD = shapely.LineString([(119.50, 25.86), (119.58, 25.872), (119.66, 25.89)])
CASES = [
    Case("nothing"),
    Case("areaCode: the officer's town", area_code=JINFENG),
    Case("areaCode: another town", area_code=GUHUAI),
    Case("areaCode: the district", area_code="350112"),
    Case("bbox", bbox=(119.56, 25.85, 119.60, 25.89)),
    Case("within", within=SQUARE),
    Case("intersects", intersects=ROAD.buffer(0.004)),
    Case("near", near=(*CENTRE, 2500.0)),
    Case("bbox in GCJ-02", bbox=(119.56, 25.85, 119.60, 25.89), crs="GCJ02"),
    Case("within in Web Mercator", within=SQUARE, crs="WEB_MERCATOR"),
    Case("near in BD-09", near=(*CENTRE, 2500.0), crs="BD09"),
    Case("areaCode + bbox + near", area_code=JINFENG, bbox=(119.55, 25.84, 119.60, 25.90),
         near=(*CENTRE, 3000.0)),
    Case("all members, in CGCS2000", area_code=JINFENG, bbox=(119.5, 25.8, 119.7, 25.95),
         within=SQUARE, intersects=SQUARE.buffer(-0.01), near=(*CENTRE, 4000.0),
         crs="CGCS2000"),
]  # fmt: skip


@pytest.fixture
def clients(anonymous, as_user) -> dict[str, GraphQLClient]:
    return {role: anonymous if role == "anonymous" else as_user(role) for role in ROLES}


def _number(node_id: str) -> int:
    return int(node_id.split(":")[1])


def typed(client: GraphQLClient, layer: str, where: dict[str, Any]) -> tuple[list[int], int | None]:
    """The ids a typed list answers, in its order, and its totalCount."""
    name = LAYERS[layer][2]
    if name in ("patrolZones", "quarantineSites"):
        nodes = client.data(f"query ($w: SpatialFilter) {{ {name}(where: $w) {{ id }} }}", w=where)
        return [_number(n["id"]) for n in nodes[name]], None
    query = f"""query ($w: SpatialFilter, $after: String) {{ {name}(where: $w, first: 1000,
        after: $after) {{ totalCount edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    ids, after = [], None
    while True:
        page = client.data(query, w=where, after=after)[name]
        ids += [_number(e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


def featured(client: GraphQLClient, layer: str, where: dict[str, Any]) -> list[int]:
    query = f"query ($w: SpatialFilter) {{ features(layer: {layer}, where: $w) }}"
    return [_number(f["id"]) for f in client.data(query, w=where)["features"]["features"]]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.parametrize("role", ROLES)
def test_lists_and_features(world, clients, role, case):
    for layer in LAYERS:
        chosen, unsure, distances = matches(world, layer, case)
        expected = world.seen(layer, role) & chosen
        anonymous = world.seen(layer, "anonymous") & chosen
        assert expected >= anonymous  # logging in never shows less
        answers = [("features", featured(clients[role], layer, case.where()))]
        if LAYERS[layer][2] is not None:
            ids, total = typed(clients[role], layer, case.where())
            answers.append(("typed", ids))
            assert total in (None, len(ids)), (layer, total)
        for door, ids in answers:
            assert len(ids) == len(set(ids)), (door, layer)
            assert set(ids) - unsure == expected - unsure, (door, layer)
            if case.near:  # nearest first
                ordered = [distances[i] for i in ids]
                assert all(a <= b + EDGE_M for a, b in zip(ordered, ordered[1:], strict=False)), (
                    door,
                    layer,
                )


# The OGC API takes the filters in its own CRSs (EPSG:4490 latitude first) and has no Chinese
# datums: GCJ-02 and BD-09 cases are GraphQL's alone.
OGC_CRS = {"WGS84": "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "CGCS2000": f"{EPSG}4490",
           "WEB_MERCATOR": f"{EPSG}3857"}  # fmt: skip
OGC_CASES = [case for case in CASES if case.crs in OGC_CRS]


def ogc_params(case: Case) -> dict[str, Any]:
    """The case as OGC API parameters: `bbox` with `bbox-crs`, the rest as one CQL2 filter."""
    crs, where = OGC_CRS[case.crs], case.where()
    lat_lon = case.crs == "CGCS2000"

    def axes(shape: BaseGeometry) -> BaseGeometry:
        return shapely.transform(shape, lambda points: points[:, ::-1]) if lat_lon else shape

    params: dict[str, Any] = {"limit": 1000}
    if "bbox" in where:
        low, high = where["bbox"][:2], where["bbox"][2:]
        params.update({"bbox": ",".join(map(str, axes(shapely.box(*low, *high)).bounds)),
                       "bbox-crs": crs})  # fmt: skip
    parts = [f"areaCode = '{case.area_code}'"] if case.area_code else []
    for member, predicate in (("within", "S_WITHIN"), ("intersects", "S_INTERSECTS")):
        if member in where:
            parts.append(f"{predicate}(geometry, {axes(shapely.geometry.shape(where[member])).wkt})")
    if "near" in where:
        point = axes(shapely.geometry.shape(where["near"]["point"]))
        parts.append(f"S_DWITHIN(geometry, {point.wkt}, {where['near']['radiusMeters']}, meters)")
    if parts:
        params.update({"filter": " AND ".join(parts), "filter-lang": "cql2-text",
                       "filter-crs": crs})  # fmt: skip
    return params


@pytest.mark.parametrize("case", OGC_CASES, ids=[case.name for case in OGC_CASES])
@pytest.mark.parametrize("role", ROLES)
def test_ogc_items(world, client, tokens, role, case):
    """Each collection's items under the role and filter are the rows its GraphQL lists hold;
    a collection the role may not see is 404, never rows."""
    headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}

    def get(path: str, **params: Any) -> Any:
        return client.get(f"{OGC}{path}", params=params or None, headers=headers)

    for layer in LAYERS:
        chosen, unsure, _ = matches(world, layer, case)
        expected = world.seen(layer, role) & chosen
        path = f"/collections/{getattr(layers, layer).plural}/items"
        if SEES[layer][ROLES.index(role)] == "none":
            assert get(path, **ogc_params(case)).status_code == 404, (layer, role)
            continue
        features, matched = every(get, path, **ogc_params(case))
        ids = [_number(feature["id"]) for feature in features]
        assert len(ids) == len(set(ids)) and set(matched) == {len(ids)}, layer
        assert set(ids) - unsure == expected - unsure, layer


def test_node_shows_each_role_what_its_lists_show(world, clients):
    """node(id) of a row is answered exactly when the role's lists hold it: a sample of each
    layer, in and out of each role's rows."""
    for layer, (_, _, _, type_name) in LAYERS.items():
        everything = sorted(world.shapes[layer])
        for role in ROLES:
            seen = world.seen(layer, role)
            sample = sorted(seen)[:3] + sorted(set(everything) - seen)[:3]
            for row_id in sample:
                node = clients[role].data(f'{{ node(id: "{type_name}:{row_id}") {{ id }} }}')
                assert (node["node"] is not None) == (row_id in seen), (role, layer, row_id)


TILE_LAYERS = {"areas": "AREAS", "enterprises": "ENTERPRISES",
               "construction_sites": "CONSTRUCTION_SITES", "rental_properties": "RENTAL_PROPERTIES",
               "patrol_zones": "PATROL_ZONES", "quarantine_sites": "QUARANTINE_SITES"}  # fmt: skip
TILE_QUERIES = [None, f"areaCode={JINFENG}", f"areaCode={GUHUAI}", "areaCode=350112",
                f"areaCode={JINFENG}&flag=RED&flag=YELLOW"]  # fmt: skip


@pytest.mark.parametrize("query", TILE_QUERIES)
@pytest.mark.parametrize("role", ROLES)
def test_tiles(world, client, tokens, db, tmp_path, role, query):
    z = 14
    x, y = tile_of(*CENTRE, z)
    bounds = tile_bounds(z, x, y)
    headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
    params = dict(part.split("=") for part in (query or "").split("&") if part)
    colors = [part.split("=")[1] for part in (query or "").split("&") if part.startswith("flag")]
    for plural, layer in TILE_LAYERS.items():
        response = client.get(f"/tiles/{plural}/{z}/{x}/{y}.mvt" + (f"?{query}" if query else ""),
                              headers=headers)  # fmt: skip
        if colors and layer not in ("ENTERPRISES", "CONSTRUCTION_SITES"):
            assert response.status_code == 400  # a layer without flags: a coded refusal
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            continue
        assert response.status_code == 200, response.text
        got = {_number(i) for i in gdal_features(response.content, tmp_path / plural, z, x, y)}
        shapes = world.shapes[layer]
        expected = {i for i, g in shapes.items() if g.intersects(bounds)} & world.seen(layer, role)
        if "areaCode" in params:
            expected &= world.in_area(layer, params["areaCode"])
        if colors and expected:
            table = LAYERS[layer][0]
            flagged = db.execute(text(f"SELECT id FROM {table} WHERE flag_color::text = ANY(:c)"),  # noqa: S608
                                 {"c": colors}).scalars()  # fmt: skip
            expected &= set(flagged)
        # A polygon that only touches the tile has nothing to draw in it.
        unsure = {i for i in expected if shapes[i].intersection(bounds).area == 0 and
                  not isinstance(shapes[i], shapely.Point)}  # fmt: skip
        assert got - unsure == expected - unsure, (plural, query)
        if layer == "ENTERPRISES" and "areaCode=350112110" not in (query or ""):
            assert expected, "the tile was chosen to hold some"


def test_route_exports(world, client, tokens):
    """A zone's route under each role: who may pull it (as inspectionRoute says), and stops
    only at targets in the zone."""
    zones = world.shapes["PATROL_ZONES"]
    own = world.inspector_zones[0]
    jinfeng = world.rows("PATROL_ZONES", "town")
    town_zone = min(jinfeng - {own})
    other = min(set(zones) - jinfeng)
    expected = {"anonymous": (401, 401, 401), "enterprise": (403, 403, 403),
                "inspector": (200, 403, 403), "town": (200, 200, 403),
                "district": (200, 200, 200)}  # fmt: skip
    targets = {kind: world.shapes[layer] for kind, layer in (
        ("Enterprise", "ENTERPRISES"), ("RentalProperty", "RENTAL_PROPERTIES"),
        ("ConstructionSite", "CONSTRUCTION_SITES"))}  # fmt: skip
    for role in ROLES:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
        for zone, status in zip((own, town_zone, other), expected[role], strict=True):
            response = client.get(f"/routes/PatrolZone:{zone}/2020-02-28.geojson", headers=headers)
            assert response.status_code == status, (role, zone, response.text)
            if status != 200:
                assert response.json()["errors"][0]["extensions"]["code"]
                continue
            for feature in response.json()["features"]:
                if feature["geometry"]["type"] == "Point":
                    kind, number = feature["id"].split(":")
                    target = targets[kind][int(number)]
                    assert zones[zone].buffer(EDGE_DEG).intersects(target), feature["id"]


# ---- subscriptions: real server processes, whose changes commit (tests/live.py) ----

SUBSCRIBED = """subscription ($area: String) { flagChanged(areaCode: $area) {
  target { ... on Enterprise { id } ... on ConstructionSite { id } } } }"""
OVERRIDE = """mutation ($id: ID!, $reason: String!) {
  overrideFlag(targetId: $id, color: RED, reason: $reason) { color } }"""


def live_world(live_db: str) -> World:
    engine = make_engine(live_db)
    live = load_world(engine)
    engine.dispose()
    return live


def test_subscriptions(servers, live_db):
    live = live_world(live_db)
    zone_targets = live.rows("ENTERPRISES", "zone")
    town = live.rows("ENTERPRISES", "town")
    chosen = [
        min(zone_targets),
        min(town - zone_targets),
        min(set(live.shapes["ENTERPRISES"]) - town),
    ]
    village = next(
        code for code, i in live.codes.items() if i == live.area_of["ENTERPRISES"][chosen[0]]
    )
    areas = [None, JINFENG, village, GUHUAI, "350112"]
    base, other = servers
    tokens = {role: None if role == "anonymous" else login(other, role) for role in ROLES}
    heard: dict[str, set[tuple[int, int]]] = {role: set() for role in ROLES}
    with contextlib.ExitStack() as stack:
        sockets = {}
        for role in ROLES:
            websocket = stack.enter_context(connect(ws_url(base), subprotocols=[PROTOCOL]))
            payload = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
            websocket.send(json.dumps({"type": "connection_init", "payload": payload}))
            assert json.loads(websocket.recv(5))["type"] == "connection_ack"
            for number, area in enumerate(areas):
                websocket.send(json.dumps({"id": str(number), "type": "subscribe", "payload": {
                    "query": SUBSCRIBED, "variables": {"area": area}}}))  # fmt: skip
            sockets[role] = websocket
        time.sleep(0.5)
        for target in chosen:
            body = post(other, tokens["district"], OVERRIDE, id=f"Enterprise:{target}",
                        reason=f"every door {uuid.uuid4()}")  # fmt: skip
            assert "errors" not in body, body
        deadline = time.monotonic() + 2  # the changes, and time for any that should not come
        while time.monotonic() < deadline:
            for role, websocket in sockets.items():
                with contextlib.suppress(TimeoutError):
                    message = json.loads(websocket.recv(0.05))
                    assert message["type"] == "next" and "errors" not in message["payload"], message
                    target = message["payload"]["data"]["flagChanged"]["target"]["id"]
                    heard[role].add((int(message["id"]), _number(target)))
    for role in ROLES:
        expected = {
            (number, target)
            for number, area in enumerate(areas)
            for target in chosen
            if target in live.seen("ENTERPRISES", role)
            and (area is None or target in live.in_area("ENTERPRISES", area))
        }
        assert heard[role] == expected, role
