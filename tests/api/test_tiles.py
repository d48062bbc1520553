"""Vector tiles: what GDAL reads in a tile is what lies in it, in the caller's scope; a kept tile
is served until a write touches it, and never to another scope."""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely import wkb
from sqlalchemy import Connection, text

from api.auth import issue_token
from api.settings import get_settings

JINFENG_BASE = (119.578, 25.872)
URGENCY = {"RED": 0, "YELLOW": 1, "GREEN": 2}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    x, y = mercator(lon, lat)
    return int(x * 2**z), int(y * 2**z)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """The point on the unit square of Web Mercator, (0, 0) top left."""
    return (lon + 180) / 360, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2


def tile_bounds(z: int, x: int, y: int) -> shapely.Polygon:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return shapely.box(x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def tile_path(content: bytes, folder: Path, z: int, x: int, y: int) -> Path:
    path = folder / str(z) / str(x) / f"{y}.mvt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def gdal_count(content: bytes, folder: Path, z: int, x: int, y: int) -> int:
    path = tile_path(content, folder, z, x, y)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True
    )
    return sum(int(n) for n in re.findall(r"Feature Count: (\d+)", out.stdout))


def gdal_features(content: bytes, folder: Path, z: int, x: int, y: int) -> dict[str, Any]:
    """The features GDAL reads, by id: their properties."""
    if not content:
        return {}
    path = tile_path(content, folder, z, x, y)
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {f["properties"]["id"]: f["properties"] for f in json.loads(out.stdout)["features"]}


def enterprises(db: Connection) -> list[tuple[int, str, shapely.Point]]:
    rows = db.execute(text("SELECT id, flag_color::text, ST_AsBinary(geom) FROM enterprise"))
    return [(id_, color, wkb.loads(bytes(g))) for id_, color, g in rows]


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


@pytest.mark.parametrize("z", [14, 15])
def test_a_detailed_tile_holds_what_lies_in_it(client, tokens, db: Connection, tmp_path, z):
    x, y = tile_of(*JINFENG_BASE, z)
    response = client.get(
        f"/tiles/enterprises/{z}/{x}/{y}.mvt",
        headers={**auth(tokens, "district"), "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"].startswith("private")
    box = tile_bounds(z, x, y)
    expected = sum(1 for _, _, point in enterprises(db) if box.intersects(point))
    assert expected > 0
    assert gdal_count(response.content, tmp_path, z, x, y) == expected


@pytest.mark.parametrize("z", [6, 12, 13])
def test_below_zoom_14_a_tile_keeps_the_most_urgent_point_of_each_cell(
    client, tokens, db: Connection, tmp_path, z
):
    """One point per cell of 1/64 of the tile: the reddest, then the lowest id. In the tile that
    holds the most enterprises, so that cells hold several."""
    rows = enterprises(db)
    x, y = Counter(tile_of(point.x, point.y, z) for _, _, point in rows).most_common(1)[0][0]
    cells: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for id_, color, point in rows:
        mx, my = mercator(point.x, point.y)
        if (int(mx * 2**z), int(my * 2**z)) == (x, y):
            cell = (int(mx * 2 ** (z + 6)), int(my * 2 ** (z + 6)))
            cells[cell].append((URGENCY[color], id_))
    expected = {f"Enterprise:{min(points)[1]}" for points in cells.values()}
    assert sum(map(len, cells.values())) > len(cells) > 0, "some cells hold several points"
    content = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt", headers=auth(tokens, "district"))
    assert set(gdal_features(content.content, tmp_path, z, x, y)) == expected


def test_scope_and_filters_apply_to_tiles(client, tokens, tmp_path):
    z = 12
    x, y = tile_of(*JINFENG_BASE, z)
    anonymous = client.get(f"/tiles/rental_properties/{z}/{x}/{y}.mvt")
    assert anonymous.status_code == 200 and anonymous.content == b""
    assert anonymous.headers["cache-control"].startswith("public")
    district = auth(tokens, "district")
    every = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt", headers=district).content
    red = client.get(f"/tiles/enterprises/{z}/{x}/{y}.mvt?flag=RED", headers=district).content
    features = gdal_features(red, tmp_path / "red", z, x, y)
    assert {f["flag"] for f in features.values()} == {"RED"}
    assert 0 < len(features) < gdal_count(every, tmp_path / "all", z, x, y)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/tiles/enterprises/23/0/0.mvt", 400), ("/tiles/enterprises/2/9/0.mvt", 400),
     ("/tiles/enterprises/1/x/0.mvt", 400), ("/tiles/secrets/1/0/0.mvt", 404),
     ("/tiles/enterprises/1/0/0.mvt?flag=PURPLE", 400),
     ("/tiles/enterprises/12/3408/1743.mvt?areaCode=999", 404)],
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


# The cache. A kept tile is marked by overwriting its bytes in tile_cache: a request that
# answers the mark was served from the cache, one that answers a real tile was built again.
MARK = b"kept"


def kept_count(db: Connection) -> int:
    return db.execute(text("SELECT count(*) FROM tile_cache")).scalar_one()  # type: ignore[no-any-return]


def mark(db: Connection) -> None:
    db.execute(text("UPDATE tile_cache SET mvt = :mark, etag = 'W/\"mark\"'"), {"mark": MARK})


def near_base(db: Connection, inside: bool) -> int:
    """An enterprise inside the z15 tile of the Jinfeng base, or far outside it."""
    z = 15
    box = tile_bounds(z, *tile_of(*JINFENG_BASE, z))
    return next(
        id_
        for id_, _, point in sorted(enterprises(db))
        if box.intersects(point) == inside and (inside or box.distance(point) > 0.05)
    )


def test_a_kept_tile_is_served_and_revalidated(client, tokens, db: Connection):
    z = 15
    x, y = tile_of(*JINFENG_BASE, z)
    url, district = f"/tiles/enterprises/{z}/{x}/{y}.mvt", auth(tokens, "district")
    built = client.get(url, headers=district)
    assert kept_count(db) == 1
    again = client.get(url, headers=district)
    assert again.content == built.content and again.headers["etag"] == built.headers["etag"]
    unchanged = client.get(url, headers={**district, "If-None-Match": built.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == built.headers["etag"]
    mark(db)
    assert client.get(url, headers=district).content == MARK


def test_a_flag_change_in_the_tile_shows_at_once(client, tokens, db: Connection, tmp_path):
    z = 15
    x, y = tile_of(*JINFENG_BASE, z)
    url, district = f"/tiles/enterprises/{z}/{x}/{y}.mvt", auth(tokens, "district")
    target = f"Enterprise:{near_base(db, inside=True)}"
    before = gdal_features(client.get(url, headers=district).content, tmp_path / "1", z, x, y)
    color = "GREEN" if before[target]["flag"] != "GREEN" else "RED"
    mutation = "mutation ($id: ID!, $c: FlagColor!) { overrideFlag(targetId: $id, color: $c,"
    mutation += ' reason: "checked") { color } }'
    answer = client.post(
        "/graphql",
        json={"query": mutation, "variables": {"id": target, "c": color}},
        headers=district,
    ).json()
    assert answer == {"data": {"overrideFlag": {"color": color}}}
    after = gdal_features(client.get(url, headers=district).content, tmp_path / "2", z, x, y)
    assert after[target]["flag"] == color
    assert {k: v for k, v in after.items() if k != target} == {
        k: v for k, v in before.items() if k != target
    }


def test_a_moved_enterprise_leaves_one_tile_and_enters_another(
    client, tokens, db: Connection, tmp_path
):
    z = 15
    x, y = tile_of(*JINFENG_BASE, z)
    far = near_base(db, inside=False)
    far_point = db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM enterprise WHERE id = :id"),
                           {"id": far}).one()  # fmt: skip
    fx, fy = tile_of(*far_point, z)
    district = auth(tokens, "district")
    urls = [f"/tiles/enterprises/{z}/{x}/{y}.mvt", f"/tiles/enterprises/{z}/{fx}/{fy}.mvt"]
    for url in urls:
        client.get(url, headers=district)
    mark(db)
    # A change far from both tiles leaves them kept.
    db.execute(text("UPDATE enterprise SET staff_total = staff_total + 1 WHERE id = :id"),
               {"id": _elsewhere(db, urls)})  # fmt: skip
    assert [client.get(url, headers=district).content for url in urls] == [MARK, MARK]
    # Moving the far enterprise to the base changes both.
    db.execute(
        text("UPDATE enterprise SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
             " WHERE id = :id"),
        {"lon": JINFENG_BASE[0], "lat": JINFENG_BASE[1], "id": far},
    )  # fmt: skip
    base, old = (client.get(url, headers=district).content for url in urls)
    assert MARK not in (base, old)
    assert f"Enterprise:{far}" in gdal_features(base, tmp_path / "base", z, x, y)
    assert f"Enterprise:{far}" not in gdal_features(old, tmp_path / "old", z, fx, fy)


def _elsewhere(db: Connection, urls: list[str]) -> int:
    """An enterprise in neither of these z15 tiles, nor next to them."""
    boxes = [tile_bounds(15, int(u.split("/")[4]), int(u.split("/")[5][:-4])) for u in urls]
    return next(
        id_ for id_, _, point in enterprises(db) if all(box.distance(point) > 0.05 for box in boxes)
    )


def test_kept_tiles_never_cross_scopes(client, tokens, db: Connection, tmp_path):
    """A town officer's kept tile is not served to another town, nor to anyone else."""
    z = 14
    x, y = tile_of(*JINFENG_BASE, z)
    url = f"/tiles/rental_properties/{z}/{x}/{y}.mvt"
    other_town = db.execute(
        text("INSERT INTO account (username, password_hash, role, town_id, disabled)"
             " SELECT 'other-town', 'x', 'TOWN_OFFICER', id, false FROM area"
             " WHERE level = 'TOWN' AND code <> '350112109' ORDER BY code LIMIT 1 RETURNING id")
    ).scalar_one()  # fmt: skip
    others = {"Authorization": f"Bearer {issue_token(get_settings(), other_town)}"}
    jinfeng = client.get(url, headers=auth(tokens, "town")).content
    in_jinfeng = set(gdal_features(jinfeng, tmp_path / "j", z, x, y))
    assert kept_count(db) == 1 and in_jinfeng
    seen = {
        who: set(gdal_features(client.get(url, headers=headers).content, tmp_path / who, z, x, y))
        for who, headers in (("other", others), ("anonymous", {}),
                             ("inspector", auth(tokens, "inspector")))
    }  # fmt: skip
    assert not seen["other"] & in_jinfeng
    assert not seen["anonymous"]
    assert seen["inspector"] < in_jinfeng
    assert kept_count(db) == 4  # one per scope
    assert client.get(url, headers=auth(tokens, "town")).content == jinfeng


def test_an_inspectors_tiles_follow_their_zones(client, tokens, db: Connection, zone_id):
    z = 12
    x, y = tile_of(*JINFENG_BASE, z)
    url, inspector = f"/tiles/rental_properties/{z}/{x}/{y}.mvt", auth(tokens, "inspector")
    assert client.get(url, headers=inspector).content != b""
    mark(db)
    db.execute(text("DELETE FROM account_zone WHERE zone_id = :zone"), {"zone": zone_id})
    assert client.get(url, headers=inspector).content == b""
