"""The read API of the contract: areas, nodes, types, pagination and the cost in statements."""

from __future__ import annotations

import shapely
from sqlalchemy import Connection, text

from tests.conftest import GraphQLClient

TOWNS = {
    "吴航街道",
    "航城街道",
    "营前街道",
    "漳港街道",
    "首占镇",
    "玉田镇",
    "松下镇",
    "江田镇",
    "古槐镇",
    "文武砂镇",
    "鹤上镇",
    "湖南镇",
    "金峰镇",
    "文岭镇",
    "梅花镇",
    "潭头镇",
    "罗联乡",
    "猴屿乡",
}


def test_district_and_its_towns(gql):
    data = gql.data(
        """{ area(code: "350112") { id name level parent { code } children { name level parent { code } } }
             towns: areas(level: TOWN) { code name } }"""
    )
    district = data["area"]
    assert (district["name"], district["level"], district["parent"]) == ("长乐区", "DISTRICT", None)
    assert {child["name"] for child in district["children"]} == TOWNS
    assert all(child["parent"]["code"] == "350112" for child in district["children"])
    assert {town["name"] for town in data["towns"]} == TOWNS
    assert all(len(town["code"]) == 9 for town in data["towns"])


def test_villages_by_parent_code(gql):
    villages = gql.data('{ areas(parentCode: "350112109") { code level } }')["areas"]
    assert villages and all(v["level"] == "VILLAGE" for v in villages)
    assert all(v["code"].startswith("350112109") for v in villages)


def test_unknown_area_is_null(gql):
    assert gql.data('{ area(code: "350112999") { name } }')["area"] is None


def test_area_geometry_simplified_has_fewer_vertices_and_stays_valid(gql):
    data = gql.data(
        '{ area(code: "350112") { full: geometry simple: geometry(simplifyMeters: 500) } }'
    )["area"]
    full, simple = (shapely.geometry.shape(data[k]) for k in ("full", "simple"))
    assert simple.is_valid
    assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(full)
    assert simple.symmetric_difference(full).area < 0.02 * full.area


def test_node_finds_every_type_by_id(gql, db: Connection):
    for table, type_name in [
        ("area", "Area"),
        ("enterprise", "Enterprise"),
        ("rental_property", "RentalProperty"),
        ("construction_site", "ConstructionSite"),
        ("patrol_zone", "PatrolZone"),
        ("quarantine_site", "QuarantineSite"),
    ]:
        row_id = db.execute(text(f"SELECT min(id) FROM {table}")).scalar_one()  # noqa: S608
        node = gql.data(
            "query ($id: ID!) { node(id: $id) { __typename id } }", id=f"{type_name}:{row_id}"
        )["node"]
        assert node == {"__typename": type_name, "id": f"{type_name}:{row_id}"}
    assert gql.data('{ node(id: "Enterprise:999999999") { id } }')["node"] is None


def test_enterprise_fields(gql, db: Connection):
    row = db.execute(
        text(
            "SELECT id, name, credit_code, contact_phone FROM enterprise WHERE name = '福建通宇电缆有限公司'"
        )
    ).one()
    node = gql.data(
        """query ($id: ID!) { node(id: $id) { ... on Enterprise {
            name creditCode category staffTotal staffReturned capacityPct problems contactPhone
            resumption flag { color reason since overridden } geometry area { name }
        } } }""",
        id=f"Enterprise:{row.id}",
    )["node"]
    assert node["name"] == "福建通宇电缆有限公司" and node["creditCode"] == row.credit_code
    assert node["area"]["name"] in {"古槐镇"} or node["area"]["name"].endswith("村")
    assert node["geometry"]["type"] == "Point"
    assert node["contactPhone"] != row.contact_phone
    assert node["contactPhone"][:3] == row.contact_phone[:3]
    assert node["contactPhone"][-4:] == row.contact_phone[-4:]
    assert "****" in node["contactPhone"]
    expected = {"FULL": "GREEN", "PARTIAL": "YELLOW", "NOT_RESUMED": "RED"}[node["resumption"]]
    assert node["flag"]["color"] == expected and node["flag"]["reason"]


def test_construction_site_entrance_lies_on_its_footprint(gql):
    sites = gql.data(
        "{ constructionSites(first: 20) { edges { node { keyProject geometry entrance } } } }"
    )["constructionSites"]["edges"]
    assert sites
    for edge in sites:
        footprint = shapely.geometry.shape(edge["node"]["geometry"])
        entrance = shapely.geometry.shape(edge["node"]["entrance"])
        assert footprint.geom_type == "Polygon"
        assert footprint.distance(entrance) < 1e-6


def test_patrol_zone_base_inside_its_zone(gql):
    zones = gql.data("{ patrolZones { team geometry base } }")["patrolZones"]
    assert len(zones) >= 18 * 3
    for zone in zones:
        assert zone["team"]
        assert shapely.geometry.shape(zone["geometry"]).covers(shapely.geometry.shape(zone["base"]))


def test_quarantine_sites(gql):
    sites = gql.data("{ quarantineSites { name bedsTotal bedsOccupied area { name } } }")
    for site in sites["quarantineSites"]:
        assert 0 <= site["bedsOccupied"] <= site["bedsTotal"]


def test_pages_follow_on_without_gaps(gql):
    query = """query ($after: String) { enterprises(first: 7, after: $after) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    first = gql.data(query)["enterprises"]
    second = gql.data(query, after=first["pageInfo"]["endCursor"])["enterprises"]
    everything = gql.data("{ enterprises(first: 14) { edges { node { id } } } }")["enterprises"][
        "edges"
    ]
    assert [e["node"]["id"] for e in first["edges"] + second["edges"]] == [
        e["node"]["id"] for e in everything
    ]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == second["totalCount"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]


def test_first_zero_gives_only_the_count(gql):
    data = gql.data(
        "{ enterprises(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } }"
    )
    assert data["enterprises"]["edges"] == [] and data["enterprises"]["totalCount"] > 0


def test_a_page_costs_the_same_statements_whatever_its_size(gql: GraphQLClient, statements):
    query = """query ($first: Int) { enterprises(first: $first) { totalCount edges { node {
        id name flag { color } geometry area { name parent { name } } } } } }"""
    counts = []
    for first in (5, 100):
        statements.clear()
        assert len(gql.data(query, first=first)["enterprises"]["edges"]) == first
        counts.append(len([s for s in statements if s.startswith("SELECT")]))
    # the caller's account, the page, its count, geometries, areas, and the areas' parents
    assert counts[0] == counts[1] == 6, statements
