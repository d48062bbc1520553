"""Every role against every read of the contract, generated from two tables: which rows each
role sees of each layer, and how it sees each field of personal data. The expected rows are
computed independently, with shapely, from the town's and the zone's boundaries."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import jwt
import pytest
import shapely
from shapely import wkb
from sqlalchemy import Connection, text

from api.auth import ALGORITHM, ISSUER
from api.settings import get_settings
from geo import accounts
from geo.db import make_engine
from geo.models import Role
from tests.conftest import GraphQLClient
from tests.live import live_query, login, post, subscribe

ROLES = ("anonymous", "inspector", "town", "district")

# layer: (table, geometry column, typed query or None, GraphQL type); then who sees which rows
LAYERS = {
    "ENTERPRISES": ("enterprise", "geom", "enterprises", "Enterprise"),
    "CONSTRUCTION_SITES": (
        "construction_site",
        "footprint",
        "constructionSites",
        "ConstructionSite",
    ),
    "RENTAL_PROPERTIES": ("rental_property", "geom", "rentalProperties", "RentalProperty"),
    "PATROL_ZONES": ("patrol_zone", "boundary", "patrolZones", "PatrolZone"),
    "QUARANTINE_SITES": ("quarantine_site", "geom", "quarantineSites", "QuarantineSite"),
    "AREAS": ("area", "boundary", None, "Area"),
}
SEES = {
    #                    anonymous  inspector  town    district
    "ENTERPRISES":        ("all",    "all",     "all",  "all"),
    "CONSTRUCTION_SITES": ("all",    "all",     "all",  "all"),
    "RENTAL_PROPERTIES":  ("none",   "zone",    "town", "all"),
    "PATROL_ZONES":       ("none",   "own",     "town", "all"),
    "QUARANTINE_SITES":   ("none",   "zone",    "town", "all"),
    "AREAS":              ("all",    "all",     "all",  "all"),
}  # fmt: skip
# The rows where a role counts (its own); elsewhere it sees personal data as anonymous does.
OWNS = {"anonymous": "none", "inspector": "zone", "town": "town", "district": "all"}
PERSONAL = {
    # field: (layer, column), then how each role sees it in its own rows
    "contactPhone": ("ENTERPRISES", "contact_phone", ("hidden", "masked", "full", "masked")),
    "landlordPhone": ("RENTAL_PROPERTIES", "landlord_phone", ("-", "masked", "full", "masked")),
    "address": ("RENTAL_PROPERTIES", "address", ("-", "full", "full", "masked")),
}


@pytest.fixture
def clients(anonymous, as_user) -> dict[str, GraphQLClient]:
    return {role: anonymous if role == "anonymous" else as_user(role) for role in ROLES}


def shapes(db: Connection, table: str, column: str) -> dict[int, Any]:
    rows = db.execute(text(f"SELECT id, ST_AsBinary({column}) FROM {table}"))  # noqa: S608
    return {row_id: wkb.loads(bytes(geom)) for row_id, geom in rows}


def expected_ids(db: Connection, layer: str, rule: str) -> set[int]:
    table, column, _, _ = LAYERS[layer]
    everything = shapes(db, table, column)
    if rule == "all":
        return set(everything)
    if rule == "none":
        return set()
    if rule == "own":
        return set(db.execute(text(
            "SELECT zone_id FROM account_zone JOIN account ON account.id = account_id"
            " WHERE username = 'inspector'"
        )).scalars())  # fmt: skip
    if rule == "town":
        town = wkb.loads(bytes(db.execute(text(
            "SELECT ST_AsBinary(a.boundary) FROM account JOIN area a ON a.id = account.town_id"
            " WHERE username = 'town'"
        )).scalar_one()))  # fmt: skip
        # Inside the town, as the derived area says: covered by its boundary.
        return {i for i, g in everything.items() if town.buffer(1e-9).covers(g)}
    zones = shapely.union_all([wkb.loads(bytes(g)) for (g,) in db.execute(text(
        "SELECT ST_AsBinary(z.boundary) FROM account_zone az JOIN account a ON a.id = az.account_id"
        " JOIN patrol_zone z ON z.id = az.zone_id WHERE a.username = 'inspector'"
    ))])  # fmt: skip
    return {i for i, g in everything.items() if zones.intersects(g)}


def feature_ids(client: GraphQLClient, layer: str) -> set[int]:
    collection = client.data(f"{{ features(layer: {layer}) }}")["features"]
    return {int(feature["id"].split(":")[1]) for feature in collection["features"]}


def typed_ids(client: GraphQLClient, layer: str) -> tuple[set[int], int | None]:
    name = LAYERS[layer][2]
    if name in ("patrolZones", "quarantineSites"):
        nodes = client.data(f"{{ {name} {{ id }} }}")[name]
        return {int(n["id"].split(":")[1]) for n in nodes}, None
    ids: set[int] = set()
    query = f"""query ($after: String) {{ {name}(first: 1000, after: $after) {{
        totalCount edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    after = None
    while True:
        page = client.data(query, after=after)[name]
        ids |= {int(e["node"]["id"].split(":")[1]) for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


CASES = [(layer, role) for layer in LAYERS for role in ROLES]


@pytest.mark.parametrize(("layer", "role"), CASES)
def test_each_role_sees_exactly_its_rows(db, clients, layer, role):
    rule = SEES[layer][ROLES.index(role)]
    expected = expected_ids(db, layer, rule)
    client = clients[role]
    assert feature_ids(client, layer) == expected
    if LAYERS[layer][2] is not None:
        ids, total = typed_ids(client, layer)
        assert ids == expected
        assert total in (None, len(expected))
    # node() answers for rows in scope and is silent (null) for the rest
    type_name = LAYERS[layer][3]
    table = LAYERS[layer][0]
    sample_out = db.execute(
        text(f"SELECT id FROM {table} WHERE NOT (id = ANY(:ids)) ORDER BY id LIMIT 3"),  # noqa: S608
        {"ids": list(expected)},
    ).scalars()
    for row_id in list(sorted(expected))[:3] + list(sample_out):
        node = client.data(f'{{ node(id: "{type_name}:{row_id}") {{ id }} }}')["node"]
        assert (node is not None) == (row_id in expected), (type_name, row_id)


def audit_rows(db: Connection) -> int:
    return db.execute(text("SELECT count(*) FROM audit_log")).scalar_one()


def other_town(db: Connection) -> str:
    return db.execute(text(
        "SELECT code FROM area WHERE level = 'TOWN' AND id <> (SELECT town_id FROM account"
        " WHERE username = 'town') ORDER BY code LIMIT 1"
    )).scalar_one()  # fmt: skip


@pytest.mark.parametrize("field", PERSONAL)
@pytest.mark.parametrize("role", ROLES)
def test_personal_data_by_role(db, clients, role, field):
    """In its own rows a role sees personal data as PERSONAL says; in the public rows of
    other towns or zones, as anonymous does (HIDDEN)."""
    layer, column, ways = PERSONAL[field]
    table, _, name, type_name = LAYERS[layer]
    visible = expected_ids(db, layer, SEES[layer][ROLES.index(role)])
    if ways[ROLES.index(role)] == "-":
        assert not visible  # the role sees none of these rows at all
        return
    own = expected_ids(db, layer, OWNS[role])
    raw = dict(db.execute(text(f"SELECT id, {column} FROM {table}")).all())  # noqa: S608
    before = audit_rows(db)
    query = f"""query ($area: String) {{ {name}(first: 60, where: {{areaCode: $area}}) {{
        edges {{ node {{ id {field} }} }} }} }}"""
    nodes = [
        edge["node"]
        for area in ("350112109", other_town(db))
        for edge in clients[role].data(query, area=area)[name]["edges"]
    ]
    assert nodes
    full = 0
    for node in nodes:
        row_id = int(node["id"].split(":")[1])
        value, truth = node[field], raw[row_id]
        way = ways[ROLES.index(role)] if row_id in own else ways[0]
        if way == "hidden":
            assert value is None
        elif way == "full":
            assert value == truth
            full += 1
        elif field == "address":
            assert value == re.sub(r"[0-9]", "*", truth) and value != truth
        else:
            assert value == f"{truth[:3]}****{truth[-4:]}"
    if role in ("inspector", "town") and layer == "ENTERPRISES":
        assert {int(n["id"].split(":")[1]) in own for n in nodes} == {True, False}
    assert audit_rows(db) - before == full


def test_an_unmasked_landlord_phone_leaves_one_audit_row(db, clients):
    rental = db.execute(text(
        "SELECT r.id, r.landlord_phone FROM rental_property r JOIN account a ON a.username = 'town'"
        " WHERE r.area_id IN (SELECT id FROM area WHERE id = a.town_id OR parent_id = a.town_id)"
        " ORDER BY r.id LIMIT 1"
    )).one()  # fmt: skip
    node_id = f"RentalProperty:{rental.id}"
    query = f'{{ node(id: "{node_id}") {{ ... on RentalProperty {{ landlordPhone }} }} }}'
    assert clients["town"].data(query)["node"]["landlordPhone"] == rental.landlord_phone
    rows = db.execute(text(
        "SELECT a.username, l.action, l.target, l.fields FROM audit_log l"
        " JOIN account a ON a.id = l.account_id"
    )).all()  # fmt: skip
    assert rows == [("town", "READ_PERSONAL", node_id, ["landlordPhone"])]


def test_an_inspectors_rentals_count_matches_its_zone(db, clients):
    expected = expected_ids(db, "RENTAL_PROPERTIES", "zone")
    ids, total = typed_ids(clients["inspector"], "RENTAL_PROPERTIES")
    assert ids == expected and total == len(expected) > 0


def test_anonymous_rental_features_are_empty(clients):
    collection = clients["anonymous"].data("{ features(layer: RENTAL_PROPERTIES) }")["features"]
    assert collection == {"type": "FeatureCollection", "features": []}


# mutation: what each role gets, on a target inside the inspector's zone (so inside Jinfeng)
MUTATIONS = {
    #                     anonymous          inspector    town  district
    "updateResumption":  ("UNAUTHENTICATED", "FORBIDDEN", "ok", "ok"),
    "overrideFlag":      ("UNAUTHENTICATED", "FORBIDDEN", "ok", "ok"),
    "clearFlagOverride": ("UNAUTHENTICATED", "FORBIDDEN", "ok", "ok"),
    "recordSignboard":   ("UNAUTHENTICATED", "FORBIDDEN", "ok", "ok"),
    "recordInspection":  ("UNAUTHENTICATED", "ok",        "ok", "ok"),
}  # fmt: skip
MUTATION_TEXT = {
    "updateResumption": "updateResumption(targetId: $id, input: {status: PARTIAL}) { color }",
    "overrideFlag": 'overrideFlag(targetId: $id, color: RED, reason: "复查") { color }',
    "clearFlagOverride": "clearFlagOverride(targetId: $id) { color }",
    "recordSignboard": 'recordSignboard(enterpriseId: $id, date: "2020-02-27")',
    "recordInspection": """recordInspection(input: {idempotencyKey: "matrix", targetId: $id,
        at: "2020-02-28T09:00:00+08:00", location: $at, findings: "ok", gpsAccuracyMeters: 5})
        { id }""",
}


@pytest.mark.parametrize(("mutation", "role"), [(m, r) for m in MUTATIONS for r in ROLES])
def test_each_role_may_make_exactly_its_changes(db, clients, mutation, role):
    target, lon, lat = db.execute(text(
        "SELECT e.id, ST_X(e.geom), ST_Y(e.geom) FROM enterprise e"
        " JOIN patrol_zone z ON ST_Covers(z.boundary, e.geom)"
        " JOIN account_zone az ON az.zone_id = z.id JOIN account a ON a.id = az.account_id"
        " WHERE a.username = 'inspector' ORDER BY e.id LIMIT 1"
    )).one()  # fmt: skip
    history = "SELECT count(*) FROM flag_change"
    before = db.execute(text(history)).scalar_one()
    location = {"type": "Point", "coordinates": [lon, lat]}
    uses_location = "$at" in MUTATION_TEXT[mutation]
    declared = "$id: ID!, $at: GeoJSON!" if uses_location else "$id: ID!"
    body = clients[role](
        f"mutation ({declared}) {{ {MUTATION_TEXT[mutation]} }}",
        id=f"Enterprise:{target}",
        **({"at": location} if uses_location else {}),
    )
    expected = MUTATIONS[mutation][ROLES.index(role)]
    if expected == "ok":
        assert "errors" not in body, body
    else:
        assert body["errors"][0]["extensions"]["code"] == expected
        assert db.execute(text(history)).scalar_one() == before  # nothing changed


# Subscriptions: the same policy, through the same code path, on real server processes whose
# changes commit (tests/live.py). A change inside the inspector's zone (so in the town officer's
# town), one in that town outside the zone, and one in another town, each heard by every role.
SUBSCRIBED = """subscription ($area: String) { flagChanged(areaCode: $area) {
  target { ... on Enterprise { id contactPhone } ... on ConstructionSite { id } } to reason } }"""
OVERRIDE = """mutation ($id: ID!, $reason: String!) {
  overrideFlag(targetId: $id, color: YELLOW, reason: $reason) { color } }"""
NODE_PHONE = "query ($id: ID!) { node(id: $id) { ... on Enterprise { contactPhone } } }"


def live_targets(live_db: str) -> dict[str, set[int]]:
    """Plain SQL, written here: enterprises by where they lie, and each role's own ones."""

    def ids(where: str) -> set[int]:
        return {row[0] for row in live_query(live_db,
            "SELECT e.id FROM enterprise e, account t, account i WHERE t.username = 'town'"  # noqa: S608
            f" AND i.username = 'inspector' AND {where}")}  # fmt: skip

    town = "e.area_id IN (SELECT id FROM area WHERE id = t.town_id OR parent_id = t.town_id)"
    zone = ("EXISTS (SELECT FROM account_zone az JOIN patrol_zone z ON z.id = az.zone_id"
            " WHERE az.account_id = i.id AND ST_Intersects(z.boundary, e.geom))")  # fmt: skip
    return {"zone": ids(zone), "town": ids(town), "all": ids("true"), "none": set()}


def audit_count(live_db: str, username: str) -> int:
    return live_query(live_db,
        "SELECT count(*) FROM audit_log l JOIN account a ON a.id = l.account_id"
        " WHERE a.username = :u", u=username)[0][0]  # fmt: skip


def test_subscriptions_mask_and_audit_as_queries_do(servers, live_db):
    targets = live_targets(live_db)
    chosen = [
        min(targets["zone"]),
        min(targets["town"] - targets["zone"]),
        min(targets["all"] - targets["town"]),
    ]
    base, other = servers
    tokens = {role: None if role == "anonymous" else login(other, role) for role in ROLES}
    audits = {role: audit_count(live_db, role) for role in ROLES[1:]}
    heard: dict[str, list[dict]] = {}
    with contextlib.ExitStack() as stack:
        sockets = {
            role: stack.enter_context(subscribe(base, tokens[role], None, SUBSCRIBED))
            for role in ROLES
        }
        for target in chosen:
            body = post(other, tokens["district"], OVERRIDE, id=f"Enterprise:{target}",
                        reason=f"matrix {uuid.uuid4()}")  # fmt: skip
            assert "errors" not in body, body
        for role, websocket in sockets.items():
            heard[role] = [json.loads(websocket.recv(5)) for _ in chosen]
    for role in ROLES:
        way, full = PERSONAL["contactPhone"][2][ROLES.index(role)], 0
        for target, message in zip(chosen, heard[role], strict=True):
            assert message["type"] == "next", (role, message)
            node = message["payload"]["data"]["flagChanged"]["target"]
            assert node["id"] == f"Enterprise:{target}"
            # The event shows what a query shows the same caller, at the same moment.
            headers = {} if tokens[role] is None else {"Authorization": f"Bearer {tokens[role]}"}
            asked = httpx.post(f"{base}/graphql", headers=headers, json={
                "query": NODE_PHONE, "variables": {"id": node["id"]}}).json()  # fmt: skip
            assert node["contactPhone"] == asked["data"]["node"]["contactPhone"], role
            own = target in targets[OWNS[role]]
            if (way if own else "hidden") == "hidden":
                assert node["contactPhone"] is None, (role, target)
            elif way == "masked":
                assert "****" in node["contactPhone"], (role, target)
            else:
                assert "*" not in node["contactPhone"], (role, target)
                full += 2  # the event, and the query just made
        if role != "anonymous":
            assert audit_count(live_db, role) - audits[role] == full, role


def token_for(live_db: str, username: str, expires_in_s: float) -> str:
    account_id = live_query(live_db, "SELECT id FROM account WHERE username = :u", u=username)[0][0]
    now = datetime.now(UTC)
    claims = {"sub": str(account_id), "iss": ISSUER, "iat": now,
              "exp": now + timedelta(seconds=expires_in_s)}  # fmt: skip
    return jwt.encode(claims, get_settings().jwt_secret, algorithm=ALGORITHM)


def ends_unauthenticated(websocket) -> None:
    """The subscription's last word: an error coded UNAUTHENTICATED, no data, then complete."""
    message = json.loads(websocket.recv(10))
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert json.loads(websocket.recv(5))["type"] == "complete"


def test_a_subscription_ends_when_its_token_expires(servers, live_db):
    with subscribe(servers[0], token_for(live_db, "town", 2.0), None, SUBSCRIBED) as websocket:
        ends_unauthenticated(websocket)


def test_a_subscription_ends_when_its_account_is_disabled(servers, live_db):
    targets = live_targets(live_db)
    engine = make_engine(live_db)
    with engine.begin() as connection:
        accounts.create(connection, f"town-{uuid.uuid4().hex[:8]}", "demo", Role.TOWN_OFFICER,
                        "350112109")  # fmt: skip
        username = connection.execute(
            text("SELECT username FROM account ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    base, other = servers
    with subscribe(base, login(base, username), None, SUBSCRIBED) as websocket:
        with engine.begin() as connection:
            accounts.set_disabled(connection, username)  # as `fugong user disable` does
        body = post(other, login(other, "district"), OVERRIDE,
                    id=f"Enterprise:{min(targets['town'])}", reason=f"matrix {uuid.uuid4()}")  # fmt: skip
        assert "errors" not in body, body
        ends_unauthenticated(websocket)
        # And what else the socket asks is refused as well.
        websocket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": ME_PHONE}}))
        message = json.loads(websocket.recv(5))
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    engine.dispose()
    assert audit_count(live_db, username) == 0


ME_PHONE = "{ enterprises(first: 1) { edges { node { contactPhone } } } }"
