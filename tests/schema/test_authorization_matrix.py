"""Every role against every read of the contract, generated from two tables: which rows each
role sees of each layer, and how it sees each field of personal data. The expected rows are
computed independently, with shapely, from the town's and the zone's boundaries."""

from __future__ import annotations

import re
from typing import Any

import pytest
import shapely
from shapely import wkb
from sqlalchemy import Connection, text

from tests.conftest import GraphQLClient

ROLES = ("anonymous", "enterprise", "inspector", "town", "district")

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
    #                    anonymous  enterprise  inspector  town    district
    "ENTERPRISES":        ("all",    "all",      "zone",    "town", "all"),
    "CONSTRUCTION_SITES": ("all",    "all",      "zone",    "town", "all"),
    "RENTAL_PROPERTIES":  ("none",   "none",     "zone",    "town", "all"),
    "PATROL_ZONES":       ("none",   "none",     "own",     "town", "all"),
    "QUARANTINE_SITES":   ("none",   "none",     "zone",    "town", "all"),
    "AREAS":              ("all",    "all",      "all",     "all",  "all"),
}  # fmt: skip
PERSONAL = {
    # field: (layer, column), then how each role sees it
    "contactPhone": (
        "ENTERPRISES",
        "contact_phone",
        ("hidden", "hidden", "masked", "full", "masked"),
    ),
    "landlordPhone": (
        "RENTAL_PROPERTIES",
        "landlord_phone",
        ("-", "-", "masked", "full", "masked"),
    ),
    "address": ("RENTAL_PROPERTIES", "address", ("-", "-", "full", "full", "masked")),
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


@pytest.mark.parametrize("field", PERSONAL)
@pytest.mark.parametrize("role", ROLES)
def test_personal_data_by_role(db, clients, role, field):
    layer, column, ways = PERSONAL[field]
    way = ways[ROLES.index(role)]
    table, _, name, type_name = LAYERS[layer]
    visible = expected_ids(db, layer, SEES[layer][ROLES.index(role)])
    if way == "-":
        assert not visible  # the role sees none of these rows at all
        return
    raw = dict(db.execute(text(f"SELECT id, {column} FROM {table}")).all())  # noqa: S608
    before = audit_rows(db)
    page = clients[role].data(f"{{ {name}(first: 50) {{ edges {{ node {{ id {field} }} }} }} }}")
    nodes = [edge["node"] for edge in page[name]["edges"]]
    assert nodes
    for node in nodes:
        value, truth = node[field], raw[int(node["id"].split(":")[1])]
        if way == "hidden":
            assert value is None
        elif way == "full":
            assert value == truth
        elif field == "address":
            assert value == re.sub(r"[0-9]", "*", truth) and value != truth
        else:
            assert value == f"{truth[:3]}****{truth[-4:]}"
    shown_in_full = len(nodes) if way == "full" else 0
    assert audit_rows(db) - before == shown_in_full


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


def test_an_inspectors_enterprises_count_matches_its_zone(db, clients):
    expected = expected_ids(db, "ENTERPRISES", "zone")
    ids, total = typed_ids(clients["inspector"], "ENTERPRISES")
    assert ids == expected and total == len(expected) > 0


def test_anonymous_rental_features_are_empty(clients):
    collection = clients["anonymous"].data("{ features(layer: RENTAL_PROPERTIES) }")["features"]
    assert collection == {"type": "FeatureCollection", "features": []}


# mutation: what each role gets, on a target inside the inspector's zone (so inside Jinfeng)
# (the enterprise account's own enterprise is elsewhere: it may report only for that one)
MUTATIONS = {
    #                     anonymous          enterprise   inspector    town  district
    "updateResumption":  ("UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "ok", "ok"),
    "overrideFlag":      ("UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "ok", "ok"),
    "clearFlagOverride": ("UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "ok", "ok"),
    "recordSignboard":   ("UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "ok", "ok"),
    "recordInspection":  ("UNAUTHENTICATED", "FORBIDDEN", "ok",        "ok", "ok"),
    "reportHealth":      ("UNAUTHENTICATED", "FORBIDDEN", "ok",        "ok", "ok"),
}  # fmt: skip
MUTATION_TEXT = {
    "updateResumption": "updateResumption(targetId: $id, input: {status: PARTIAL}) { color }",
    "overrideFlag": 'overrideFlag(targetId: $id, color: RED, reason: "复查") { color }',
    "clearFlagOverride": "clearFlagOverride(targetId: $id) { color }",
    "recordSignboard": 'recordSignboard(enterpriseId: $id, date: "2020-02-27")',
    "recordInspection": """recordInspection(input: {idempotencyKey: "matrix", targetId: $id,
        at: "2020-02-28T09:00:00+08:00", location: $at, findings: "ok"}) { id }""",
    "reportHealth": """reportHealth(enterpriseId: $id, date: "2020-02-27", input: {onSite: 0,
        checked: 0, fever: 0, isolated: 0, outOfProvince: 0}) { revision }""",
}


@pytest.mark.parametrize(("mutation", "role"), [(m, r) for m in MUTATIONS for r in ROLES])
def test_each_role_may_make_exactly_its_changes(db, clients, mutation, role):
    target, lon, lat = db.execute(text(
        "SELECT e.id, ST_X(e.geom), ST_Y(e.geom) FROM enterprise e"
        " JOIN patrol_zone z ON ST_Covers(z.boundary, e.geom)"
        " JOIN account_zone az ON az.zone_id = z.id JOIN account a ON a.id = az.account_id"
        " WHERE a.username = 'inspector' AND NOT e.has_dormitory ORDER BY e.id LIMIT 1"
    )).one()  # fmt: skip
    history = (
        "SELECT (SELECT count(*) FROM flag_change) + (SELECT count(*) FROM health_report_revision)"
    )
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
