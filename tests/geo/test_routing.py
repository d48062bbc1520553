"""Routing: plans against the seeded Jinfeng zone and synthetic zones, on both solvers; the
GPX and GeoJSON exports read back by GDAL and gpxpy; map links against prcoords and SQL."""

import json
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import gpxpy
import numpy as np
import prcoords
import pytest
from pyproj import Geod
from sqlalchemy import text

from geo.days import TIMEZONE
from geo.due import DueTarget, Priority, due_targets
from geo.routing import PlanSettings, StraightLine, inspection_plan, plan_routes, to_geojson, to_gpx
from geo.routing.matrix import haversine_m
from geo.routing.navigation import links, to_bd09, to_gcj02
from geo.targets import TargetKind

DAY = date(2020, 2, 28)
BASE = (119.578, 25.872)
SOLVERS = ["ortools", "vroom"]
FAST = 0.5  # seconds: enough for these small zones


def synthetic(counts, seed=7, spread_deg=0.012):
    """Targets scattered around BASE: `counts` maps a priority to how many."""
    rng = np.random.default_rng(seed)
    targets, n = [], 0
    for priority, count in counts.items():
        for _ in range(count):
            n += 1
            lon, lat = (
                BASE[0] + rng.uniform(-spread_deg, spread_deg),
                BASE[1] + rng.uniform(-spread_deg, spread_deg),
            )
            targets.append(
                DueTarget(
                    TargetKind.ENTERPRISE,
                    n,
                    f"企业{n}",
                    Priority(priority),
                    f"p{priority}",
                    lon,
                    lat,
                    20,
                )
            )
    return targets


def settings(solver, limit=FAST):
    return PlanSettings(solver=solver, time_limit_s=limit)


def all_placed_once(plan, due):
    placed = [(s.target.kind, s.target.id) for r in plan.routes for s in r.stops]
    placed += [(t.kind, t.id) for t in plan.unvisited]
    assert sorted(placed, key=str) == sorted(((t.kind, t.id) for t in due), key=str)


# --- Plans -----------------------------------------------------------------------------------


@pytest.mark.parametrize("inspectors", [1, 2])
def test_jinfeng_zone_every_due_target_once(db, zone_id, inspectors):
    due = due_targets(db, zone_id, DAY)
    plan = inspection_plan(db, zone_id, DAY, inspectors=inspectors, shift_minutes=480)
    assert len(plan.routes) == inspectors and plan.distance_model == "STRAIGHT_LINE"
    assert plan.unvisited, "the demo zone holds more than one shift can"
    all_placed_once(plan, due)
    visited = [s.target for r in plan.routes for s in r.stops]
    # Urgent targets fill the day: a heuristic stopped by its time limit may keep an odd
    # cheaper stop where no urgent one fits in its place, but never many.
    urgent = sum(t.priority is Priority.URGENT for t in visited)
    assert urgent >= 0.95 * len(visited)
    assert Priority.FOLLOW_UP not in {t.priority for t in visited}


@pytest.mark.parametrize("solver", SOLVERS)
def test_short_shift_drops_routine_then_yellow(solver):
    due = synthetic({3: 10, 2: 10, 1: 6})
    plan = plan_routes(1, DAY, BASE, due, 1, 200, settings(solver))  # room for ~8 stops of 20 min
    visited = [s.target.priority for s in plan.routes[0].stops]
    assert visited.count(Priority.URGENT) == 6
    assert Priority.ROUTINE not in visited and 0 < visited.count(Priority.FOLLOW_UP) < 10
    assert [t.priority for t in plan.unvisited] == sorted(
        (t.priority for t in plan.unvisited), reverse=True
    )
    all_placed_once(plan, due)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("inspectors", [1, 3])
def test_routes_start_and_end_at_base_within_the_shift(solver, inspectors):
    due = synthetic({1: 15, 2: 15, 3: 15})
    shift = 240
    plan = plan_routes(1, DAY, BASE, due, inspectors, shift, settings(solver))
    start = datetime(2020, 2, 28, 8, 30, tzinfo=TIMEZONE)
    for route in plan.routes:
        coords = list(route.geometry.coords)
        assert coords[0] == coords[-1] == BASE
        assert coords[1:-1] == [(s.target.lon, s.target.lat) for s in route.stops]
        assert [s.sequence for s in route.stops] == list(range(1, len(route.stops) + 1))
        arrivals = [s.planned_arrival for s in route.stops]
        assert arrivals == sorted(arrivals) and len(set(arrivals)) == len(arrivals)
        assert all(a > start for a in arrivals)
        assert route.duration_min <= shift
        if route.stops:  # the last arrival plus its service and the way home fits too
            last = route.stops[-1]
            assert last.planned_arrival + timedelta(
                minutes=last.target.service_minutes
            ) <= start + timedelta(minutes=route.duration_min)
            # straight-line length is the sum of its legs times the detour factor
            legs = haversine_m(coords)
            assert route.distance_m == pytest.approx(
                sum(legs[i, i + 1] for i in range(len(coords) - 1)) * 1.3
            )
    all_placed_once(plan, due)


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_respected(solver):
    import time

    due = synthetic({1: 60, 2: 60, 3: 80})
    began = time.perf_counter()
    plan_routes(1, DAY, BASE, due, 2, 480, settings(solver, limit=0.5))
    assert time.perf_counter() - began < 1.5


def test_nothing_due_is_an_empty_route():
    plan = plan_routes(1, DAY, BASE, [], 2, 480)
    assert [len(r.stops) for r in plan.routes] == [0, 0] and plan.unvisited == []
    assert plan.routes[0].distance_m == 0 and plan.routes[0].duration_min == 0


def test_straight_line_matches_geodesic():
    points = [BASE, (119.60, 25.89), (119.55, 25.85)]
    geod = Geod(ellps="WGS84")
    _, _, want = geod.inv(points[0][0], points[0][1], points[1][0], points[1][1])
    assert haversine_m(points)[0, 1] == pytest.approx(want, rel=0.005)
    m = StraightLine().matrix(points)
    assert (
        m.duration_s[0, 1] == round(want * 1.3 / (25 / 3.6))
        or abs(m.duration_s[0, 1] - want * 1.3 / (25 / 3.6)) < 20
    )


# --- Exports ---------------------------------------------------------------------------------


@pytest.fixture
def plan():
    return plan_routes(45, DAY, BASE, synthetic({1: 5, 2: 5, 3: 5}), 2, 150, settings("ortools"))


def ogr_features(path, layer):
    """Each feature of a layer, as GDAL reads it: {field: value} with the geometry's WKT."""
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", str(path), layer]
        if layer
        else ["ogrinfo", "-ro", "-al", "-q", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    features, current = [], None
    for line in out.splitlines():
        if line.startswith("OGRFeature("):
            current = {}
            features.append(current)
        elif current is not None and " = " in line and line.startswith("  "):
            key, _, value = line.strip().partition(" = ")
            current[key.split(" (")[0]] = value
        elif current is not None and line.strip().startswith(("POINT", "LINESTRING")):
            current["wkt"] = line.strip()
    return features


def test_gpx_read_back_by_gdal_with_stops_in_order(plan, tmp_path):
    path = tmp_path / "route.gpx"
    path.write_text(to_gpx(plan), encoding="utf-8")
    points = ogr_features(path, "route_points")
    for number, route in enumerate(plan.routes, start=1):
        mine = [p for p in points if p["route_fid"] == str(number - 1)]
        names = [p["name"] for p in mine]
        assert names == ["base", *(f"{s.sequence}. {s.target.name}" for s in route.stops), "base"]
        assert [p["desc"] for p in mine[1:-1]] == [
            f"{s.target.reason}; planned {s.planned_arrival:%H:%M}" for s in route.stops
        ]
        x, y = (float(v) for v in mine[0]["wkt"].strip("POINT ()").split())
        assert (x, y) == pytest.approx(BASE)
    assert len(ogr_features(path, "routes")) == len(plan.routes)


def test_gpx_read_back_by_gpxpy(plan):
    gpx = gpxpy.parse(to_gpx(plan))
    assert gpx.version == "1.1" and len(gpx.routes) == len(plan.routes)
    for rte, route in zip(gpx.routes, plan.routes, strict=True):
        inner = rte.points[1:-1]
        assert [c for p in inner for c in (p.longitude, p.latitude)] == pytest.approx(
            [c for s in route.stops for c in (s.target.lon, s.target.lat)]
        )
        assert [p.time for p in inner] == [s.planned_arrival for s in route.stops]


def test_geojson_read_back_by_gdal(plan, tmp_path):
    path = tmp_path / "route.geojson"
    path.write_text(json.dumps(to_geojson(plan), ensure_ascii=False), encoding="utf-8")
    features = ogr_features(path, None)
    lines = [f for f in features if f["wkt"].startswith("LINESTRING")]
    stops = [f for f in features if f["wkt"].startswith("POINT")]
    assert len(lines) == len(plan.routes)
    assert len(stops) == sum(len(r.stops) for r in plan.routes)
    first = plan.routes[0].stops[0]
    got = next(f for f in stops if f["route"] == "1" and f["sequence"] == "1")
    assert got["reason"] == first.target.reason and got["plannedArrival"].startswith(
        "2020/02/28 08:"
    )  # GDAL reads it as a date-time


# --- Navigation links ------------------------------------------------------------------------

EVILTRANSFORM = [  # published (wgs, gcj) test vectors, lon-lat
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM)
def test_gcj02_against_published_points(wgs, gcj):
    assert to_gcj02(wgs) == pytest.approx(gcj, abs=1e-6)


def test_links_carry_shifted_coordinates(db):
    stop, origin = (119.5712, 25.8834), BASE
    amap, baidu = links(stop, "恒益纺织", origin, "base")
    gcj = prcoords.wgs_gcj((stop[1], stop[0]))
    bd = prcoords.wgs_bd((stop[1], stop[0]))
    assert (amap.coordinate_type, baidu.coordinate_type) == ("GCJ02", "BD09")
    assert (amap.lon, amap.lat) == pytest.approx((gcj.lon, gcj.lat), abs=1e-6)
    assert (baidu.lon, baidu.lat) == pytest.approx((bd.lon, bd.lat), abs=1e-6)
    q = parse_qs(urlparse(amap.marker_url).query)
    lon, lat = map(float, q["position"][0].split(","))
    assert (lon, lat) == pytest.approx((gcj.lon, gcj.lat), abs=1e-6) and q["coordinate"] == [
        "gaode"
    ]
    assert q["name"] == ["恒益纺织"]
    q = parse_qs(urlparse(baidu.marker_url).query)
    lat, lon = map(float, q["location"][0].split(","))
    assert (lon, lat) == pytest.approx((bd.lon, bd.lat), abs=1e-6) and q["coord_type"] == ["bd09ll"]
    nav = parse_qs(urlparse(amap.navigation_url).query)
    assert nav["to"][0].endswith(",恒益纺织") and nav["from"][0].endswith(",base")
    # Independently of prcoords: fugong's SQL conversion (crs.sql) agrees.
    for crs, (x, y) in (("GCJ02", to_gcj02(stop)), ("BD09", to_bd09(stop))):
        got = db.execute(
            text("SELECT ST_X(g), ST_Y(g) FROM fugong_from_wgs84(ST_MakePoint(:x, :y), :crs) g"),
            {"x": stop[0], "y": stop[1], "crs": crs},
        ).one()
        assert tuple(got) == pytest.approx((x, y), abs=1e-6)


def test_plan_settings_are_replaceable():
    assert replace(PlanSettings(), solver="vroom").solver == "vroom"
