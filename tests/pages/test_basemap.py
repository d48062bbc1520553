"""With a base map drawn in GCJ-02 (AMap, Tencent), every overlay is drawn in GCJ-02 too
(tiles asked with ?crs=GCJ02), so an enterprise's marker lands where prcoords puts it."""

from __future__ import annotations

import math
import struct
import zlib

import prcoords

from tests.live import serving
from tests.pages.conftest import graphql
from tests.pages.test_map import COLORS, near, pixel, ready

GUHUAI = "350112105"


def png(side: int = 256, rgb: tuple[int, int, int] = (236, 232, 220)) -> bytes:
    """A plain square PNG: the base map's every tile."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_with_a_gcj02_base_map_a_marker_is_drawn_at_its_gcj02_position(
    pages_db, origins, open_page
):
    basemap = origins.start(png(), "image/png")
    template = f"{basemap}/{{z}}/{{x}}/{{y}}.png"
    settings = {"FUGONG_BASEMAP_URL": template, "FUGONG_BASEMAP_CRS": "GCJ02"}
    with serving(pages_db, **settings) as (base, _):
        found = graphql(
            base,
            "query ($c: String!) { enterprises(where: {areaCode: $c}, first: 1) "
            "{ edges { node { id flag { color } geometry } } } }",
            c=GUHUAI,
        )["enterprises"]["edges"][0]["node"]
        lon, lat = found["geometry"]["coordinates"]
        gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
        watched = ready(open_page(f"{base}/map#17/{gcj.lat}/{gcj.lon}", allow=(basemap,)))
        where = watched.page.evaluate(
            """([id, gcj, wgs]) => {
              const map = fugong.map, at = (c) => { const p = map.project(c); return [p.x, p.y]; };
              const drawn = map.queryRenderedFeatures({layers: ["enterprises-0"]})
                .find((f) => f.properties.id === id);
              return {drawn: drawn && at(drawn.geometry.coordinates), gcj: at(gcj), wgs: at(wgs)};
            }""",
            [found["id"], [gcj.lon, gcj.lat], [lon, lat]],
        )
        assert watched.page.evaluate("fugong.crs") == "GCJ02"
        assert math.dist(where["drawn"], where["gcj"]) <= 1.0, where
        assert math.dist(where["wgs"], where["gcj"]) > 100  # ~500 m apart at zoom 17
        assert near(pixel(watched, *where["gcj"]), COLORS[found["flag"]["color"]])
        assert any(url.startswith(basemap) for url in watched.requests)  # the base map drawn
        assert watched.errors == [] and watched.outside == []
