"""Output as GIS clients read it: RFC 7946 ring order everywhere GeoJSON leaves fugong, vector
tile properties with the types of their GraphQL fields (decoded by a real MVT decoder), a
FeatureCollection's CRS as GDAL reads it, and kept tiles that do not outlive a deploy."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo import layers
from geo.tiles import content_version, forget_other_versions
from tests.api.test_tiles import JINFENG_BASE, auth, tile_of


def rings(geometry: dict[str, Any]) -> list[tuple[bool, shapely.LinearRing]]:
    """Every ring of a (Multi)Polygon: (is it an exterior ring, the ring)."""
    found = shape(geometry)
    polygons = list(getattr(found, "geoms", [found]))
    return [(True, p.exterior) for p in polygons] + [
        (False, hole) for p in polygons for hole in p.interiors
    ]


def assert_rfc7946_winding(geometry: dict[str, Any]) -> None:
    for exterior, ring in rings(geometry):
        assert ring.is_ccw is exterior, "exterior rings counter-clockwise, holes clockwise"


@pytest.mark.parametrize("crs", ["WGS84", "GCJ02", "WEB_MERCATOR"])
def test_every_polygon_leaves_counter_clockwise(gql, db: Connection, crs):
    clockwise = db.execute(text(
        "SELECT count(*) FROM area WHERE ST_IsPolygonCW(boundary)"
    )).scalar_one()  # fmt: skip
    assert clockwise > 0, "the stored demo rings wind clockwise: the test could not fail"
    query = """query ($crs: Crs) {
      areas: features(layer: AREAS, crs: $crs) zones: features(layer: PATROL_ZONES, crs: $crs)
      sites: features(layer: CONSTRUCTION_SITES, crs: $crs)
      area(code: "350112") { geometry(crs: $crs) children { geometry(crs: $crs, simplifyMeters: 50) } }
      patrolZones { geometry(crs: $crs) }
      constructionSites(first: 50) { edges { node { geometry(crs: $crs) } } } }"""
    data = gql.data(query, crs=crs)
    geometries = [
        *(f["geometry"] for key in ("areas", "zones", "sites") for f in data[key]["features"]),
        data["area"]["geometry"],
        *(child["geometry"] for child in data["area"]["children"]),
        *(zone["geometry"] for zone in data["patrolZones"]),  # resolved field by field
        *(e["node"]["geometry"] for e in data["constructionSites"]["edges"]),  # compiled page
    ]
    assert len(geometries) > 100
    for geometry in geometries:
        assert_rfc7946_winding(geometry)


GRAPHQL_TYPES: dict[str, tuple[type, ...]] = {
    "Int": (int,), "Float": (int, float), "String": (str,), "Boolean": (bool,),
}  # fmt: skip


def graphql_types(gql, type_name: str) -> dict[str, str]:
    """The GraphQL type of each field of `type_name`, by name: scalars and enums (as String)."""
    fields = gql.data(
        """query ($t: String!) { __type(name: $t) { fields { name type { kind name
           ofType { kind name } } } } }""",
        t=type_name,
    )["__type"]["fields"]
    found = {}
    for field in fields:
        named = field["type"]["ofType"] or field["type"]
        found[field["name"]] = "String" if named["kind"] == "ENUM" else named["name"]
    return found


@pytest.mark.parametrize(
    "plural", [p for p in layers.BY_PLURAL if p not in ("areas", "patrol_zones")]
)
def test_tile_properties_keep_their_graphql_types(client, tokens, gql, plural):
    layer = layers.BY_PLURAL[plural]
    z = 11
    x, y = tile_of(*JINFENG_BASE, z)
    response = client.get(f"/tiles/{plural}/{z}/{x}/{y}.mvt", headers=auth(tokens, "district"))
    features = mapbox_vector_tile.decode(response.content)[plural]["features"]
    assert features
    fields = graphql_types(gql, layer.type_name)
    checked = 0
    for name in layer.public:
        # `flag` is FlagStatus in GraphQL; in a tile, its colour (the FlagColor enum: a string).
        expected = "String" if name == "flag" else fields[name]
        for feature in features:
            value = feature["properties"].get(name)
            if value is not None:
                assert isinstance(value, GRAPHQL_TYPES[expected]), (name, value, expected)
                checked += 1
    if plural == "enterprises":
        assert any("capacityPct" in f["properties"] for f in features)
    assert checked


def ogr_crs(collection: str, tmp_path) -> str:
    path = tmp_path / "features.geojson"
    path.write_text(collection)
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("crs", "epsg"), [("WEB_MERCATOR", "3857"), ("CGCS2000", "4490"), ("WGS84", "4326")]
)
def test_gdal_reads_the_crs_of_a_feature_collection(gql, tmp_path, crs, epsg):
    collection = gql.data(
        "query ($crs: Crs) { features(layer: PATROL_ZONES, crs: $crs) }", crs=crs
    )["features"]
    out = ogr_crs(json.dumps(collection), tmp_path)
    assert re.search(rf'ID\["EPSG",\s*{epsg}\]\]\s*$', out.split("Data axis")[0].strip()), out
    extent = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\)", out)
    assert extent is not None
    if crs == "WEB_MERCATOR":  # metres, and GDAL knows it
        assert float(extent.group(1)) > 1e7
    assert ("crs" in collection) is (crs != "WGS84")  # RFC 7946: WGS84 needs no label


def test_a_tile_kept_by_an_earlier_deploy_is_not_served(client, db: Connection):
    """A deploy that changes what tiles hold (capacityPct from text to a number) must not
    answer the tiles an earlier version kept, though no write has touched them since."""
    z = 12
    x, y = tile_of(*JINFENG_BASE, z)
    old = b"\x1a\x00"  # an empty tile, as the earlier version kept it
    for filters in ("areaCode=&flag=", "v=000000000000&areaCode=&flag="):
        db.execute(text(
            "INSERT INTO tile_cache (layer, z, x, y, scope, filters, mvt, etag, bounds)"
            " VALUES ('enterprises', :z, :x, :y, 'anonymous', :f, :mvt, 'W/\"old\"',"
            " ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326))"
        ), {"z": z, "x": x, "y": y, "f": filters, "mvt": old})  # fmt: skip
    served = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt")
    assert served.status_code == 200 and served.content != old
    assert mapbox_vector_tile.decode(served.content)["enterprises"]["features"]
    # A deploy's first start drops them (the app's lifespan): they can never be served again.
    assert forget_other_versions(Session(bind=db)) == 2
    kept = db.execute(text("SELECT filters FROM tile_cache WHERE z = :z AND x = :x AND y = :y"),
                      {"z": z, "x": x, "y": y}).scalars().all()  # fmt: skip
    assert kept and all(f.startswith(f"v={content_version()}&") for f in kept)
