"""The web's edges: security headers on every page, the Host header trusted for nothing (absolute
URLs from FUGONG_PUBLIC_URL; other hosts refused where configured), TileJSON and the /tiles
catalogue as map clients read them, tiles in GCJ-02, and the vendored libraries intact."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import prcoords
import pytest
import shapely
from sqlalchemy import text
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from geo import layers
from tests.api.test_tiles import tile_of, tile_path

PUBLIC = "https://gis.example.org/fugong"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def public(sessions):
    settings = dataclasses.replace(get_settings(), public_url=PUBLIC)
    with TestClient(create_app(settings, sessions)) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/map", "text/html"), ("/graphql", "text/html"), ("/static/map.js", "*/*")],
)
def test_pages_carry_the_security_headers(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    headers = response.headers
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_base_map_is_the_one_other_origin_a_page_may_load(sessions):
    basemap = "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    settings = dataclasses.replace(get_settings(), basemap_url=basemap)
    with TestClient(create_app(settings, sessions)) as client:
        response = client.get("/map")
    csp = response.headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://webrd01.is.autonavi.com;" in csp
    assert "connect-src 'self' https://webrd01.is.autonavi.com;" in csp
    assert "webrd01.is.autonavi.com" in response.text  # in the page's configuration


def test_absolute_urls_come_from_the_public_url_not_the_host_header(public):
    headers = {"Host": "evil.example"}
    document = public.get("/tiles/enterprises.json?flag=RED&flag=YELLOW", headers=headers).json()
    assert document["tiles"] == [
        f"{PUBLIC}/tiles/enterprises/{{z}}/{{x}}/{{y}}.mvt?flag=RED&flag=YELLOW"
    ]
    listed = public.get("/tiles", headers=headers).json()["tiles"]
    assert {layer["tilejson"] for layer in listed} == {
        f"{PUBLIC}/tiles/{name}.json" for name in layers.BY_PLURAL
    }


def test_hosts_not_configured_are_refused(sessions):
    settings = dataclasses.replace(get_settings(), allowed_hosts=frozenset({"gis.example.org"}))
    with TestClient(create_app(settings, sessions), base_url="http://gis.example.org") as client:
        assert client.get("/health").status_code == 200
        refused = client.get("/health", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_HOST"


def test_tilejson_describes_the_layer_as_clients_read_it(client, db):
    document = client.get("/tiles/enterprises.json?areaCode=350112105&crs=GCJ02").json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"][0].endswith(
        "/tiles/enterprises/{z}/{x}/{y}.mvt?areaCode=350112105&crs=GCJ02"
    )
    fields = document["vector_layers"][0]["fields"]
    assert fields["flag"] == "String" and fields["staffTotal"] == "Number"
    assert fields["id"] == "String" and document["attribution"]
    # Bounds and centre: the district's, in the CRS asked for (an independent extent).
    outline = db.execute(
        text(
            "SELECT ST_AsText(fugong_from_wgs84(boundary, 'GCJ02')) FROM area"
            " WHERE parent_id IS NULL"
        )
    ).scalar_one()
    expected = shapely.from_wkt(outline).bounds
    assert document["bounds"] == pytest.approx(list(expected), abs=1e-6)
    west, south, east, north = document["bounds"]
    lon, lat, zoom = document["center"]
    assert west < lon < east and south < lat < north and 0 <= zoom <= document["maxzoom"]
    sites = client.get("/tiles/construction_sites.json").json()["vector_layers"][0]["fields"]
    assert sites["keyProject"] == "Boolean"


@pytest.mark.parametrize("query", ["?crs=BD10", "?crs=WEB_MERCATOR", "?flag=PURPLE"])
def test_tilejson_refuses_what_tiles_would_refuse(client, query):
    response = client.get(f"/tiles/enterprises.json{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_gcj02_tile_draws_each_point_where_prcoords_shifts_it(client, db, tmp_path):
    lon, lat = 119.52, 25.895
    z = 15
    x, y = tile_of(lon, lat, z)
    shifted = {}
    for crs in ("WGS84", "GCJ02"):
        response = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt?crs={crs}")
        assert response.status_code == 200
        shifted[crs] = read_points(response.content, tmp_path / crs, z, x, y)
    stored = dict(
        db.execute(text("SELECT 'Enterprise:' || id, ST_AsText(geom) FROM enterprise")).all()
    )
    assert shifted["GCJ02"] and shifted["GCJ02"].keys() != shifted["WGS84"].keys()
    tolerance = 360 / 2**z / 4096 * 2  # two tile units
    for id_, (gx, gy) in shifted["GCJ02"].items():
        point = shapely.from_wkt(stored[id_])
        expected = prcoords.wgs_gcj(prcoords.Coords(point.y, point.x))
        assert abs(gx - expected.lon) < tolerance and abs(gy - expected.lat) < tolerance


def read_points(content: bytes, folder: Path, z: int, x: int, y: int) -> dict[str, tuple]:
    path = tile_path(content, folder, z, x, y)
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "/vsistdout/", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    features = json.loads(out.stdout)["features"]
    return {f["properties"]["id"]: tuple(f["geometry"]["coordinates"]) for f in features}


def test_the_vendored_libraries_match_their_sums_and_keep_their_licences():
    subprocess.run([sys.executable, str(ROOT / "assets" / "vendor.py"), "--check"], check=True)
    vendor = ROOT / "api" / "static" / "vendor"
    for package in (p for p in vendor.iterdir() if p.is_dir()):
        assert any(f.name.startswith("LICENSE") for f in package.iterdir()), package
