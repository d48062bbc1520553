"""crs.sql against prcoords, published vectors and PostGIS; geometry structure survives."""

import math
import re
import warnings

import prcoords
import pytest
from sqlalchemy import func, literal_column, select, text
from sqlalchemy.exc import DBAPIError

from geo.crs import Crs, from_wgs84, geojson_decimals, to_wgs84

TOL = 1e-6  # degrees, against prcoords (whose own inverse stops near 1e-8)
ROUND_TRIP = 1e-7  # degrees

# A 9 x 9 grid over Changle District, plus cities across China (lon, lat).
CHANGLE = [(119.35 + 0.05 * i, 25.65 + 0.05 * j) for i in range(9) for j in range(9)]
CHINA = [
    (116.391, 39.907),  # Beijing
    (121.473, 31.230),  # Shanghai
    (87.617, 43.793),  # Urumqi
    (75.990, 39.470),  # Kashgar
    (126.535, 45.803),  # Harbin
    (91.117, 29.653),  # Lhasa
    (109.512, 18.252),  # Sanya
    (105.0, 35.0),  # the formulas' origin, where sqrt(|x|) has its kink
    (119.296, 26.074),  # Fuzhou
]
# Outside prcoords' box: no GCJ02 shift at all.
ABROAD = [
    (139.80, 35.60),  # Tokyo Bay
    (-0.1276, 51.5072),  # London
    (151.21, -33.87),  # Sydney
    (137.8348, 35.0),  # just east of the box
    (100.0, 55.8272),  # just north of the box
]

# eviltransform's test vectors (also in its Go, C#, Haskell and Ruby ports): (wgs, gcj), lon-lat.
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

TO = text(
    "SELECT ST_X(g), ST_Y(g), ST_SRID(g)"
    " FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(x, y, n),"
    " fugong_to_wgs84(ST_MakePoint(p.x, p.y), :crs) AS g ORDER BY p.n"
)
FROM = text(
    "SELECT ST_X(g), ST_Y(g), ST_SRID(g)"
    " FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(x, y, n),"
    " fugong_from_wgs84(ST_MakePoint(p.x, p.y), :crs) AS g ORDER BY p.n"
)


def run(db, query, points, crs):
    """The points through one of the SQL functions: [(x, y, srid)] in order."""
    lons, lats = zip(*points, strict=True)
    params = {"lons": list(lons), "lats": list(lats), "crs": crs}
    return [tuple(row) for row in db.execute(query, params)]


def prc(fn, lon, lat):
    """A prcoords conversion in lon-lat order; prcoords takes and gives (lat, lon)."""
    with warnings.catch_warnings():
        # prcoords warns when it leaves a non-Chinese point alone; that is expected here.
        warnings.filterwarnings("ignore", message="Non-Chinese coords")
        out = fn((lat, lon))
    return out.lon, out.lat


def assert_close(got, want, tol, label=""):
    for (gx, gy, *_), (wx, wy) in zip(got, want, strict=True):
        assert abs(gx - wx) <= tol and abs(gy - wy) <= tol, (label, (gx, gy), (wx, wy))


# --- Against prcoords -------------------------------------------------------------------------


@pytest.mark.parametrize("points", [CHANGLE, CHINA], ids=["changle", "china"])
def test_wgs84_to_gcj02_matches_prcoords(db, points):
    got = run(db, FROM, points, "GCJ02")
    assert_close(got, [prc(prcoords.wgs_gcj, *p) for p in points], TOL)
    assert {srid for *_, srid in got} == {4326}


@pytest.mark.parametrize("points", [CHANGLE, CHINA], ids=["changle", "china"])
def test_gcj02_to_wgs84_matches_prcoords_bored(db, points):
    got = run(db, TO, points, "GCJ02")
    assert_close(got, [prc(prcoords.gcj_wgs_bored, *p) for p in points], TOL)
    assert {srid for *_, srid in got} == {4326}


@pytest.mark.parametrize("points", [CHANGLE, CHINA], ids=["changle", "china"])
def test_wgs84_to_bd09_matches_prcoords(db, points):
    got = run(db, FROM, points, "BD09")
    assert_close(got, [prc(prcoords.wgs_bd, *p) for p in points], TOL)


@pytest.mark.parametrize("points", [CHANGLE, CHINA], ids=["changle", "china"])
def test_bd09_to_wgs84_matches_prcoords_bored(db, points):
    got = run(db, TO, points, "BD09")
    assert_close(got, [prc(prcoords.bd_wgs_bored, *p) for p in points], TOL)


def test_changle_shift_is_the_expected_few_hundred_metres(db):
    # A sanity check on the units: in Fuzhou GCJ02 lies about 470 m east and 330 m south.
    ((x, y, _),) = run(db, FROM, [(119.5, 25.9)], "GCJ02")
    assert 0.004 < x - 119.5 < 0.006 and -0.004 < y - 25.9 < -0.002


# --- Published vectors ------------------------------------------------------------------------


def test_eviltransform_vectors(db):
    wgs = [w for w, _ in EVILTRANSFORM]
    gcj = [g for _, g in EVILTRANSFORM]
    assert_close(run(db, FROM, wgs, "GCJ02"), gcj, 1e-9, "forward")
    # The exact inverse gives the 7-decimal inputs back, not merely the metre of the rough one.
    assert_close(run(db, TO, gcj, "GCJ02"), wgs, 1e-9, "inverse")


# --- Round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["GCJ02", "BD09"])
def test_round_trips(db, crs):
    points = CHANGLE + CHINA
    back = run(db, TO, [(x, y) for x, y, _ in run(db, FROM, points, crs)], crs)
    assert_close(back, points, ROUND_TRIP, "to(from(p))")
    there = run(db, FROM, [(x, y) for x, y, _ in run(db, TO, points, crs)], crs)
    assert_close(there, points, ROUND_TRIP, "from(to(p))")


# --- The China box ----------------------------------------------------------------------------


def test_gcj02_is_identity_outside_china(db):
    assert_close(run(db, FROM, ABROAD, "GCJ02"), ABROAD, 0.0, "forward")
    # prcoords' gcj_wgs_bored would shift these: its iteration skips the box test. Its rough
    # gcj_wgs and eviltransform leave them alone, and so does fugong.
    assert_close(run(db, TO, ABROAD, "GCJ02"), ABROAD, 0.0, "inverse")


def test_china_box_bounds_are_inclusive_like_prcoords(db):
    edges = [(72.004, 40.0), (137.8347, 40.0), (100.0, 0.8293), (100.0, 55.8271)]
    just_out = [(72.0039, 40.0), (137.8348, 40.0), (100.0, 0.8292), (100.0, 55.8272)]
    got = run(db, FROM, edges + just_out, "GCJ02")
    assert_close(got, [prc(prcoords.wgs_gcj, *p) for p in edges + just_out], TOL)
    assert all((x, y) != p for (x, y, _), p in zip(got[:4], edges, strict=True))
    assert_close(got[4:], just_out, 0.0)


def test_bd09_offset_applies_outside_china_as_in_prcoords(db):
    # Baidu's own step has no box test in prcoords or eviltransform: abroad, WGS84 -> BD09 is
    # GCJ02 -> BD09 of the unshifted point, and the inverse undoes just that.
    got = run(db, FROM, ABROAD, "BD09")
    assert_close(got, [prc(prcoords.wgs_bd, *p) for p in ABROAD], TOL)
    assert all(abs(x - lon) > 1e-3 for (x, _, _), (lon, _) in zip(got, ABROAD, strict=True))
    back = run(db, TO, [(x, y) for x, y, _ in got], "BD09")
    assert_close(back, ABROAD, ROUND_TRIP)


# --- Geometry structure -----------------------------------------------------------------------

HOLED = (
    "POLYGON((119.40 25.70,119.60 25.70,119.60 25.90,119.40 25.90,119.40 25.70),"
    "(119.45 25.75,119.50 25.75,119.50 25.80,119.45 25.75))"
)
GEOMETRIES = [
    "POINT(119.5 25.9)",
    "LINESTRING(119.4 25.7,119.5 25.8,119.5 25.8,119.6 25.75)",
    HOLED,
    "MULTIPOINT((119.4 25.7),(119.6 25.9))",
    "MULTIPOINT(EMPTY,(119.6 25.9))",
    "MULTIPOINT Z((119.4 25.7 1),(119.6 25.9 2))",
    "MULTILINESTRING((119.4 25.7,119.5 25.8),(119.6 25.9,119.7 26.0,119.6 26.0))",
    f"MULTIPOLYGON({HOLED[7:]},((119.7 26.0,119.72 26.0,119.72 26.02,119.7 26.0)))",
    "GEOMETRYCOLLECTION(POINT(119.5 25.9),POINT EMPTY,MULTIPOINT((119.4 25.7)),"
    f"GEOMETRYCOLLECTION(LINESTRING(119.4 25.7,119.5 25.8)),{HOLED})",
    "GEOMETRYCOLLECTION(POINT(119.5 25.9),POINT(119.6 25.8))",  # not to become a MULTIPOINT
    "POINT EMPTY",
    "LINESTRING EMPTY",
    "POLYGON EMPTY",
    "MULTIPOLYGON EMPTY",
    "GEOMETRYCOLLECTION EMPTY",
    "LINESTRING Z(119.4 25.7 10,119.5 25.8 20)",
    "POINT M(119.5 25.9 3)",
    "POLYGON ZM((119.4 25.7 1 2,119.6 25.7 3 4,119.6 25.9 5 6,119.4 25.7 1 2))",
]
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")

SHAPES = text(
    "WITH g AS (SELECT ST_GeomFromText(:wkt, 4326) AS src),"
    " o AS (SELECT src, CASE WHEN :inverse THEN fugong_to_wgs84(src, :crs)"
    "        ELSE fugong_from_wgs84(src, :crs) END AS out FROM g)"
    " SELECT ST_AsText(src), ST_AsText(out), ST_SRID(out), ST_IsValid(out) FROM o"
)
# Each output vertex against the same vertex converted alone, in dump order.
VERTICES = text(
    "WITH g AS (SELECT ST_GeomFromText(:wkt, 4326) AS src),"
    " o AS (SELECT src, CASE WHEN :inverse THEN fugong_to_wgs84(src, :crs)"
    "        ELSE fugong_from_wgs84(src, :crs) END AS out FROM g),"
    " a AS (SELECT d.path, d.geom FROM o, ST_DumpPoints(o.out) AS d),"
    " b AS (SELECT d.path, CASE WHEN :inverse THEN fugong_to_wgs84(d.geom, :crs)"
    "        ELSE fugong_from_wgs84(d.geom, :crs) END AS geom FROM o, ST_DumpPoints(o.src) AS d)"
    " SELECT a.path::text, ST_AsText(a.geom, 17), ST_AsText(b.geom, 17),"
    "        ST_Distance(ST_Force2D(a.geom), ST_Force2D(b.geom)), ST_Z(a.geom), ST_Z(b.geom),"
    "        ST_M(a.geom), ST_M(b.geom)"
    " FROM a FULL JOIN b ON a.path = b.path ORDER BY a.path"
)


def shape(wkt):
    return NUMBER.sub("n", wkt)


@pytest.mark.parametrize("wkt", GEOMETRIES)
@pytest.mark.parametrize(
    "crs,inverse", [("GCJ02", False), ("GCJ02", True), ("BD09", False), ("BD09", True)]
)
def test_structure_is_kept(db, wkt, crs, inverse):
    params = {"wkt": wkt, "crs": crs, "inverse": inverse}
    src, out, srid, valid = db.execute(SHAPES, params).one()
    assert shape(out) == shape(src)
    assert srid == 4326 and valid
    if not wkt.endswith("EMPTY"):
        assert out != src  # really shifted
    for path, a, b, dist, az, bz, am, bm in db.execute(VERTICES, params):
        assert a is not None and b is not None, path  # same vertices, same paths
        assert dist <= 1e-12 and (az, am) == (bz, bm), (path, a, b)


@pytest.mark.parametrize("crs", ["GCJ02", "BD09"])
def test_polygon_with_hole_keeps_rings_closed_exactly(db, crs):
    row = db.execute(
        text(
            "WITH p AS (SELECT fugong_from_wgs84(ST_GeomFromText(:wkt), :crs) AS g),"
            " r AS (SELECT ST_ExteriorRing(g) AS ring FROM p"
            "       UNION ALL SELECT ST_InteriorRingN(g, 1) FROM p)"
            " SELECT (SELECT ST_NumInteriorRings(g) FROM p),"
            "        array_agg(ST_NPoints(ring)),"
            "        bool_and(ST_X(ST_StartPoint(ring)) = ST_X(ST_EndPoint(ring))"
            "             AND ST_Y(ST_StartPoint(ring)) = ST_Y(ST_EndPoint(ring)))"
            " FROM r"
        ),
        {"wkt": HOLED, "crs": crs},
    ).one()
    assert row == (1, [5, 4], True)


def test_input_srid_is_ignored(db):
    got = db.execute(
        text(
            "SELECT ST_AsEWKT(fugong_to_wgs84(ST_GeomFromText('POINT(119.5 25.9)', 3857), 'GCJ02'))"
            " = ST_AsEWKT(fugong_to_wgs84(ST_GeomFromText('POINT(119.5 25.9)'), 'GCJ02'))"
        )
    ).scalar_one()
    assert got is True


def test_null_gives_null(db):
    row = db.execute(
        text(
            "SELECT fugong_to_wgs84(NULL, 'GCJ02'), fugong_from_wgs84(NULL, 'BD09'),"
            " fugong_to_wgs84('POINT(1 2)', NULL), fugong_from_wgs84('POINT(1 2)', NULL)"
        )
    ).one()
    assert tuple(row) == (None, None, None, None)


# --- Systems PostGIS knows --------------------------------------------------------------------


def test_cgcs2000_is_st_transform_4490(db):
    row = db.execute(
        text(
            "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(119.5, 25.9), 4326) AS w),"
            " c AS (SELECT fugong_from_wgs84(w, 'CGCS2000') AS g, w FROM p)"
            " SELECT ST_SRID(g), ST_X(g), ST_Y(g),"
            "        ST_Equals(g, ST_Transform(w, 4490)),"
            "        ST_AsEWKT(fugong_to_wgs84(g, 'CGCS2000'))"
            "          = ST_AsEWKT(ST_Transform(ST_SetSRID(g, 4490), 4326))"
            " FROM c"
        )
    ).one()
    srid, x, y, same_as_postgis, back_same_as_postgis = row
    assert srid == 4490 and same_as_postgis and back_same_as_postgis
    # The two datums agree within decimetres; PROJ treats the change as a no-op.
    assert abs(x - 119.5) < TOL and abs(y - 25.9) < TOL


def test_web_mercator_is_the_spherical_formula(db):
    lon, lat = 119.5, 25.9
    x, y, srid = run(db, FROM, [(lon, lat)], "WEB_MERCATOR")[0]
    r = 6378137.0
    assert srid == 3857
    assert abs(x - r * math.radians(lon)) < 1e-6
    assert abs(y - r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))) < 1e-6
    ((back_lon, back_lat, back_srid),) = run(db, TO, [(x, y)], "WEB_MERCATOR")
    assert back_srid == 4326
    assert abs(back_lon - lon) < 1e-9 and abs(back_lat - lat) < 1e-9


def test_wgs84_only_sets_the_srid(db):
    row = db.execute(
        text(
            "SELECT ST_AsEWKT(ST_GeomFromText(:wkt, 4326)),"
            " ST_AsEWKT(fugong_from_wgs84(ST_GeomFromText(:wkt, 3857), 'WGS84')),"
            " ST_AsEWKT(fugong_to_wgs84(ST_GeomFromText(:wkt), 'WGS84'))"
        ),
        {"wkt": HOLED},
    ).one()
    assert row[0] == row[1] == row[2]


# --- Errors -----------------------------------------------------------------------------------


UNKNOWN_CRS = [
    "SELECT fugong_to_wgs84(ST_MakePoint(119.5, 25.9), :crs)",
    "SELECT fugong_from_wgs84(ST_MakePoint(119.5, 25.9), :crs)",
    # The name read from a row, so that the planner cannot fold it away first.
    "SELECT fugong_to_wgs84(ST_MakePoint(119.5, 25.9), c) FROM unnest(ARRAY[:crs]) AS c",
    "SELECT fugong_from_wgs84(ST_MakePoint(119.5, 25.9), c) FROM unnest(ARRAY[:crs]) AS c",
]


@pytest.mark.parametrize("crs", ["gcj02", "EPSG 4326", ""])
@pytest.mark.parametrize("sql", UNKNOWN_CRS)
def test_unknown_crs_raises(db, sql, crs):
    with pytest.raises(DBAPIError, match="unknown coordinate system"), db.begin_nested():
        db.execute(text(sql), {"crs": crs}).all()


def test_curved_geometry_raises(db):
    with pytest.raises(DBAPIError, match="cannot change the coordinate system"), db.begin_nested():
        db.execute(
            text("SELECT fugong_from_wgs84('CIRCULARSTRING(119 25,119.5 25.5,120 25)', 'GCJ02')")
        ).all()


# --- Speed ------------------------------------------------------------------------------------


def test_points_column_is_inlined(db):
    # With a constant crs the planner inlines the public function: a column of points goes
    # straight to the per-vertex function. A STRICT or VOLATILE slipped in would undo that.
    db.execute(text("CREATE TEMP TABLE crs_pts AS SELECT ST_MakePoint(119.5, 25.9) AS g"))
    explain = text("EXPLAIN VERBOSE SELECT fugong_from_wgs84(g, 'GCJ02') FROM crs_pts")
    plan = "\n".join(db.execute(explain).scalars())
    assert "fugong_from_wgs84" not in plan and "fugong_shift_any" not in plan
    assert "fugong_shift_vertex(g, 'WGS84>GCJ02'::text)" in plan


# --- The Python helpers -----------------------------------------------------------------------


def test_python_helpers(db):
    g = literal_column("ST_MakePoint(119.5, 25.9)")
    assert to_wgs84(g, Crs.WGS84) is g and from_wgs84(g, Crs.WGS84) is g
    gcj_x, back_x = db.execute(
        select(
            func.ST_X(from_wgs84(g, Crs.GCJ02)),
            func.ST_X(to_wgs84(from_wgs84(g, Crs.BD09), Crs.BD09)),
        )
    ).one()
    assert abs(gcj_x - prc(prcoords.wgs_gcj, 119.5, 25.9)[0]) < TOL
    assert abs(back_x - 119.5) < ROUND_TRIP
    assert [c.value for c in Crs] == [c.name for c in Crs]
    assert geojson_decimals(Crs.WEB_MERCATOR) == 2
    assert {geojson_decimals(c) for c in Crs if c is not Crs.WEB_MERCATOR} == {7}
