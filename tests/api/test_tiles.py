"""Vector tiles: what GDAL reads in a tile is what lies in it, in the caller's scope."""

from __future__ import annotations

import math
import re
import subprocess

import pytest
import shapely
from shapely import wkb
from sqlalchemy import Connection, text

JINFENG_BASE = (119.578, 25.872)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> shapely.Polygon:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return shapely.box(x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def gdal_count(content: bytes, folder, z: int, x: int, y: int) -> int:
    path = folder / str(z) / str(x) / f"{y}.mvt"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True
    )
    return sum(int(n) for n in re.findall(r"Feature Count: (\d+)", out.stdout))


@pytest.mark.parametrize("z", [12, 15])
def test_a_tile_holds_what_lies_in_it(client, tokens, db: Connection, tmp_path, z):
    x, y = tile_of(*JINFENG_BASE, z)
    response = client.get(
        f"/tiles/enterprises/{z}/{x}/{y}.mvt",
        headers={"Authorization": f"Bearer {tokens['district']}", "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"].startswith("private")
    box = tile_bounds(z, x, y)
    points = [
        wkb.loads(bytes(g)) for (g,) in db.execute(text("SELECT ST_AsBinary(geom) FROM enterprise"))
    ]
    expected = sum(1 for p in points if box.intersects(p))
    assert expected > 0
    assert gdal_count(response.content, tmp_path, z, x, y) == expected


def test_scope_and_filters_apply_to_tiles(client, tokens, tmp_path):
    z = 12
    x, y = tile_of(*JINFENG_BASE, z)
    anonymous = client.get(f"/tiles/rental_properties/{z}/{x}/{y}.mvt")
    assert anonymous.status_code == 200 and anonymous.content == b""
    assert anonymous.headers["cache-control"].startswith("public")
    district = {"Authorization": f"Bearer {tokens['district']}"}
    every = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt", headers=district).content
    red = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt?flag=RED", headers=district).content
    assert (
        0
        < gdal_count(red, tmp_path / "red", z, x, y)
        < gdal_count(every, tmp_path / "all", z, x, y)
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [("/tiles/enterprises/23/0/0.mvt", 400), ("/tiles/enterprises/2/9/0.mvt", 400),
     ("/tiles/secrets/1/0/0.mvt", 404), ("/tiles/enterprises/1/0/0.mvt?flag=PURPLE", 400)],
)  # fmt: skip
def test_bad_tile_requests(client, path, status):
    response = client.get(path)
    assert response.status_code == status and response.json()["errors"][0]["extensions"]["code"]


def test_tilejson(client):
    document = client.get("/tiles/construction_sites.json").json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"][0].endswith("/tiles/construction_sites/{z}/{x}/{y}.mvt")
    assert document["vector_layers"][0]["id"] == "construction_sites"
    assert "flag" in document["vector_layers"][0]["fields"]
