"""Every SpatialFilter member, alone and combined, against shapely and pyproj on the same rows."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from pyproj import Geod
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from tests.conftest import GraphQLClient

JINFENG = "350112109"
GEOD = Geod(ellps="WGS84")

IDS = """
query ($where: SpatialFilter, $flag: [FlagColor!], $after: String) {
  enterprises(where: $where, flag: $flag, first: 500, after: $after) {
    totalCount
    edges { node { id distanceMeters } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def all_enterprises(gql: GraphQLClient, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql.data(IDS, after=after, **variables)["enterprises"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(nodes)
            return nodes
        after = page["pageInfo"]["endCursor"]


def ids(nodes: list[dict[str, Any]]) -> set[str]:
    return {node["id"] for node in nodes}


@pytest.fixture
def points(db: Connection) -> dict[str, BaseGeometry]:
    rows = db.execute(text("SELECT id, ST_AsBinary(geom) FROM enterprise"))
    return {f"Enterprise:{id_}": wkb.loads(bytes(geom)) for id_, geom in rows}


def area_shape(db: Connection, code: str) -> BaseGeometry:
    geom = db.execute(
        text("SELECT ST_AsBinary(boundary) FROM area WHERE code = :code"), {"code": code}
    ).scalar_one()
    return wkb.loads(bytes(geom))


def test_area_code_holds_what_lies_inside_the_town(gql, db, points):
    town = area_shape(db, JINFENG)
    expected = {id_ for id_, point in points.items() if town.covers(point)}
    assert expected, "the demo has enterprises in Jinfeng"
    assert ids(all_enterprises(gql, where={"areaCode": JINFENG})) == expected


def test_area_code_of_the_district_includes_its_towns(gql, db, points):
    district = area_shape(db, "350112")
    expected = {id_ for id_, point in points.items() if district.covers(point)}
    assert ids(all_enterprises(gql, where={"areaCode": "350112"})) == expected


def test_bbox(gql, points):
    bbox = [119.50, 25.85, 119.60, 25.95]
    box = shapely.box(*bbox)
    expected = {id_ for id_, point in points.items() if box.intersects(point)}
    assert expected
    assert ids(all_enterprises(gql, where={"bbox": bbox})) == expected


def test_within_a_polygon(gql, points):
    polygon = shapely.Polygon([(119.45, 25.85), (119.62, 25.80), (119.58, 25.98), (119.45, 25.85)])
    expected = {id_ for id_, point in points.items() if point.within(polygon)}
    assert expected
    where = {"within": shapely.geometry.mapping(polygon)}
    assert ids(all_enterprises(gql, where=where)) == expected


def test_intersects_a_line_buffer_and_a_multipolygon(gql, points):
    shape = shapely.MultiPolygon(
        [shapely.box(119.5, 25.9, 119.52, 25.92), shapely.box(119.6, 25.8, 119.63, 25.83)]
    )
    expected = {id_ for id_, point in points.items() if shape.intersects(point)}
    where = {"intersects": shapely.geometry.mapping(shape)}
    assert ids(all_enterprises(gql, where=where)) == expected


def test_near_is_nearest_first_with_ellipsoidal_distances(gql, points):
    centre = (119.55, 25.90)
    radius_m = 3000.0
    distances = {
        id_: GEOD.inv(centre[0], centre[1], point.x, point.y)[2] for id_, point in points.items()
    }
    expected = {id_ for id_, d in distances.items() if d <= radius_m}
    where = {"near": {"point": {"type": "Point", "coordinates": centre}, "radiusMeters": radius_m}}
    nodes = all_enterprises(gql, where=where)
    assert ids(nodes) == expected
    got = [node["distanceMeters"] for node in nodes]
    assert got == sorted(got)
    for node in nodes:
        assert node["distanceMeters"] == pytest.approx(distances[node["id"]], abs=0.01)


def test_filters_combine_with_and(gql, db, points):
    town = area_shape(db, JINFENG)
    box = shapely.box(119.55, 25.78, 119.65, 25.86)
    red = {
        f"Enterprise:{id_}"
        for (id_,) in db.execute(text("SELECT id FROM enterprise WHERE resumption = 'NOT_RESUMED'"))
    }
    expected = {
        id_ for id_, point in points.items() if town.covers(point) and box.intersects(point)
    } & red
    where = {"areaCode": JINFENG, "bbox": list(box.bounds)}
    assert ids(all_enterprises(gql, where=where, flag=["RED"])) == expected


def test_no_filter_pages_through_every_enterprise_once(gql, points):
    nodes = all_enterprises(gql)
    assert len(nodes) == len(ids(nodes)) == len(points)


def test_rentals_sites_zones_and_quarantine_sites_filter_too(gql, db):
    where = {"areaCode": JINFENG}
    data = gql.data(
        """query ($where: SpatialFilter) {
          rentalProperties(where: $where, first: 1000) { totalCount edges { node { area { code } } } }
          constructionSites(where: $where, first: 1000) { totalCount edges { node { area { code } } } }
          patrolZones(where: $where) { name area { code } }
          quarantineSites(where: $where) { name area { code } }
        }""",
        where=where,
    )
    in_jinfeng = {JINFENG} | {
        code for (code,) in db.execute(text("SELECT code FROM area WHERE code LIKE '350112109%'"))
    }
    for connection in ("rentalProperties", "constructionSites"):
        found = [edge["node"]["area"]["code"] for edge in data[connection]["edges"]]
        assert set(found) <= in_jinfeng
        assert data[connection]["totalCount"] == len(found)
    assert {zone["area"]["code"] for zone in data["patrolZones"]} <= in_jinfeng
    assert len(data["patrolZones"]) >= 3
    names = {site["name"] for site in data["quarantineSites"]}
    assert {"金峰旧政府", "塔光敬老院", "金峰旧法庭", "金峰旧税务分局"} <= names
