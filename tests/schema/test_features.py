"""`features`: FeatureCollections that GIS clients read as they are, in any CRS asked for."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import prcoords
import pytest
import shapely

BBOX = [119.45, 25.80, 119.65, 25.98]
PERSONAL = {"contactName", "contactPhone", "landlordName", "landlordPhone", "address"}
FEATURES = "query ($layer: Layer!, $where: SpatialFilter, $crs: Crs) { features(layer: $layer, where: $where, crs: $crs) }"


def positions(coordinates: list) -> list[list[float]]:
    if isinstance(coordinates[0], int | float):
        return [coordinates]
    return [p for part in coordinates for p in positions(part)]


def ogr_feature_count(collection: dict, folder: Path) -> int:
    path = folder / "features.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    result = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
    )
    return int(re.search(r"Feature Count: (\d+)", result.stdout).group(1))


def test_gdal_reads_the_viewport_with_the_same_count(gql, tmp_path):
    collection = gql.data(FEATURES, layer="ENTERPRISES", where={"bbox": BBOX})["features"]
    typed = gql.data(
        "query ($where: SpatialFilter) { enterprises(where: $where, first: 0) { totalCount } }",
        where={"bbox": BBOX},
    )["enterprises"]["totalCount"]
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == typed > 0
    assert ogr_feature_count(collection, tmp_path) == typed


@pytest.mark.parametrize(
    "layer",
    [
        "AREAS",
        "ENTERPRISES",
        "RENTAL_PROPERTIES",
        "CONSTRUCTION_SITES",
        "PATROL_ZONES",
        "QUARANTINE_SITES",
    ],
)
def test_every_layer_is_rfc7946_with_ids_and_no_personal_data(gql, layer, tmp_path):
    collection = gql.data(FEATURES, layer=layer)["features"]
    features = collection["features"]
    assert features
    ids = [feature["id"] for feature in features]
    assert len(set(ids)) == len(ids)
    for feature in features:
        assert feature["type"] == "Feature"
        assert not PERSONAL & set(feature["properties"])
        assert shapely.geometry.shape(feature["geometry"]).is_valid
        for x, y in positions(feature["geometry"]["coordinates"]):
            assert 119.3 < x < 119.8 and 25.6 < y < 26.1  # lon/lat order
            assert len(repr(x).partition(".")[2]) <= 7 and len(repr(y).partition(".")[2]) <= 7
    assert ogr_feature_count(collection, tmp_path) == len(features)


def test_enterprise_properties_carry_the_flag(gql):
    feature = gql.data(FEATURES, layer="ENTERPRISES")["features"]["features"][0]
    assert {"name", "category", "flag", "staffTotal"} <= set(feature["properties"])
    assert feature["properties"]["flag"] in {"GREEN", "YELLOW", "RED"}
    assert feature["id"].startswith("Enterprise:")


def test_near_features_carry_distance_nearest_first(gql):
    where = {
        "near": {"point": {"type": "Point", "coordinates": [119.55, 25.9]}, "radiusMeters": 2500}
    }
    features = gql.data(FEATURES, layer="ENTERPRISES", where=where)["features"]["features"]
    distances = [f["properties"]["distanceMeters"] for f in features]
    assert distances and distances == sorted(distances) and distances[-1] <= 2500


def test_gcj02_and_bd09_outputs_match_prcoords(gql):
    wgs = gql.data(FEATURES, layer="QUARANTINE_SITES")["features"]["features"]
    for crs, convert in (("GCJ02", prcoords.wgs_gcj), ("BD09", prcoords.wgs_bd)):
        shifted = gql.data(FEATURES, layer="QUARANTINE_SITES", crs=crs)["features"]["features"]
        assert [f["id"] for f in shifted] == [f["id"] for f in wgs]
        for plain, moved in zip(wgs, shifted, strict=True):
            lon, lat = plain["geometry"]["coordinates"]
            expected_lat, expected_lon = convert((lat, lon))
            assert moved["geometry"]["coordinates"] == pytest.approx(
                [expected_lon, expected_lat], abs=1e-6
            )


def test_web_mercator_and_cgcs2000_outputs(gql):
    wgs = gql.data(FEATURES, layer="QUARANTINE_SITES")["features"]["features"][0]
    merc = gql.data(FEATURES, layer="QUARANTINE_SITES", crs="WEB_MERCATOR")["features"]["features"][
        0
    ]
    cgcs = gql.data(FEATURES, layer="QUARANTINE_SITES", crs="CGCS2000")["features"]["features"][0]
    lon, lat = wgs["geometry"]["coordinates"]
    x, y = merc["geometry"]["coordinates"]
    import math

    assert x == pytest.approx(6378137 * math.radians(lon), abs=0.02)
    assert y == pytest.approx(
        6378137 * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)), abs=0.02
    )
    assert cgcs["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)


def test_a_gcj02_filter_finds_what_a_phone_map_shows(gql):
    """A point read off a Gaode map (GCJ-02) finds the enterprise drawn there, ~0 m away."""
    feature = gql.data(FEATURES, layer="ENTERPRISES")["features"]["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    gcj_lat, gcj_lon = prcoords.wgs_gcj((lat, lon))
    where = {
        "near": {"point": {"type": "Point", "coordinates": [gcj_lon, gcj_lat]}, "radiusMeters": 5},
        "crs": "GCJ02",
    }
    nearest = gql.data(FEATURES, layer="ENTERPRISES", where=where)["features"]["features"]
    assert nearest[0]["id"] == feature["id"]
    assert nearest[0]["properties"]["distanceMeters"] < 0.05
    # Read as WGS84 by mistake, the same numbers land hundreds of metres away.
    where["crs"] = "WGS84"
    misread = gql.data(FEATURES, layer="ENTERPRISES", where=where)["features"]["features"]
    assert feature["id"] not in {f["id"] for f in misread}


def test_typed_geometry_in_gcj02(gql):
    node = gql.data("{ quarantineSites { name wgs: geometry gcj: geometry(crs: GCJ02) } }")[
        "quarantineSites"
    ][0]
    lon, lat = node["wgs"]["coordinates"]
    gcj_lat, gcj_lon = prcoords.wgs_gcj((lat, lon))
    assert node["gcj"]["coordinates"] == pytest.approx([gcj_lon, gcj_lat], abs=1e-6)
