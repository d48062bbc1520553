"""The road network: an OSM extract imported, distances on it from pgRouting, plans riding it."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from pyproj import Geod
from sqlalchemy import Connection, Engine, text

import migrations
from api import cli
from api.settings import get_settings
from geo.db import make_engine
from geo.errors import BadInput
from geo.osm_roads import import_osm
from geo.routing import StraightLine, inspection_plan
from geo.routing.matrix import haversine_m
from geo.routing.road_network import RoadNetwork, roads_cover
from tests.conftest import scratch_database
from tests.geo.osm import Grid, write_grid

DAY = date(2020, 2, 28)
GEOD = Geod(ellps="WGS84")


def zone_box(db: Connection, zone_id: int) -> tuple[float, float, float, float]:
    row = db.execute(
        text(
            "SELECT ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary)"
            " FROM patrol_zone WHERE id = :id"
        ),
        {"id": zone_id},
    ).one()
    return row[0], row[1], row[2], row[3]


@pytest.fixture
def grid(db: Connection, zone_id: int, tmp_path) -> Grid:
    """A 6 × 6 street grid over the demo inspector's zone, imported."""
    path = tmp_path / "grid.osm"
    made = write_grid(path, *zone_box(db, zone_id))
    import_osm(db, path)
    return made


def test_import_splits_ways_at_junctions_and_keeps_rideable_ones(db, zone_id, tmp_path):
    grid = write_grid(tmp_path / "grid.osm", *zone_box(db, zone_id))
    counts = import_osm(db, tmp_path / "grid.osm")
    assert counts == {"ways": grid.ways, "roads": grid.roads, "vertices": grid.vertices}
    kinds = db.execute(text("SELECT DISTINCT highway FROM road ORDER BY 1")).scalars().all()
    assert kinds == ["residential", "service", "tertiary"]  # the footway is left out
    one_way = db.execute(text("SELECT count(*) FROM road WHERE reverse_cost_s < 0")).scalar()
    assert one_way == grid.size - 1


def test_edge_lengths_and_costs(db, grid):
    (lon1, lat1), (lon2, lat2) = grid.lonlat(0, 0), grid.lonlat(0, 1)
    _, _, expected_m = GEOD.inv(lon1, lat1, lon2, lat2)
    length_m, cost_s = db.execute(
        text("SELECT length_m, cost_s FROM road WHERE source = :a AND target = :b"),
        {"a": grid.node(0, 0), "b": grid.node(0, 1)},
    ).one()
    assert length_m == pytest.approx(expected_m, rel=1e-4)  # a straight street, two pieces
    assert cost_s == pytest.approx(length_m / (25 / 3.6))


def test_importing_again_replaces_the_network(db, grid, tmp_path):
    path = tmp_path / "again.osm"
    write_grid(path, grid.west, grid.south, grid.east, grid.north, size=3)
    assert import_osm(db, path)["vertices"] == 3 * 3 + 2
    assert db.execute(text("SELECT count(*) FROM road_vertex")).scalar() == 11


def test_not_osm_is_bad_input(db, tmp_path):
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1'", encoding="utf-8")
    with pytest.raises(BadInput, match="not OSM XML"):
        import_osm(db, path)
    with pytest.raises(BadInput, match="no OSM file"):
        import_osm(db, tmp_path / "missing.osm")


def test_road_distances_are_no_shorter_than_great_circles(db, grid):
    rng = np.random.default_rng(3)
    points = [
        (float(rng.uniform(grid.west, grid.east)), float(rng.uniform(grid.south, grid.north)))
        for _ in range(30)
    ]
    m = RoadNetwork(db).matrix(points)
    crow_m = haversine_m(points)
    off = ~np.eye(len(points), dtype=bool)
    # 0.5 %: the roads are measured on the ellipsoid, haversine on a sphere.
    assert (m.distance_m[off] >= crow_m[off] * 0.995).all()
    # On a grid the road is at most the two sides of the box, plus a detour round the one-way
    # street and the ridden stretch to the nearest junction at each end.
    diagonal_m = haversine_m([grid.lonlat(0, 0), grid.lonlat(1, 1)])[0, 1]
    assert (m.distance_m[off] <= crow_m[off] * np.sqrt(2) + 4 * diagonal_m).all()
    assert (m.duration_s[off] > 0).all()
    assert np.diag(m.distance_m).tolist() == [0.0] * len(points)


def test_one_way_street_forces_a_detour(db, grid):
    row = grid.oneway_row
    west, east = grid.lonlat(row, 0), grid.lonlat(row, grid.size - 1)
    m = RoadNetwork(db).matrix([west, east])
    along_m = haversine_m([west, east])[0, 1]
    block_m = haversine_m([grid.lonlat(0, 0), grid.lonlat(1, 0)])[0, 1]
    assert m.distance_m[0, 1] == pytest.approx(along_m, rel=0.005)  # with the traffic
    assert m.distance_m[1, 0] == pytest.approx(along_m + 2 * block_m, rel=0.005)  # round a block
    assert m.duration_s[1, 0] > m.duration_s[0, 1]


def test_a_piece_joined_to_nothing_falls_back_to_the_straight_line(db, grid):
    points = [grid.lonlat(0, 0), grid.island[0]]
    m = RoadNetwork(db).matrix(points)
    straight = StraightLine().matrix(points)
    assert m.distance_m[0, 1] == pytest.approx(straight.distance_m[0, 1])
    assert m.duration_s[1, 0] == straight.duration_s[1, 0]


def test_plan_rides_the_roads_when_they_are_loaded(db, zone_id, tmp_path):
    assert not roads_cover(db, zone_id)
    assert inspection_plan(db, zone_id, DAY).distance_model == "STRAIGHT_LINE"
    import_osm(db, _grid_file(db, zone_id, tmp_path))
    assert roads_cover(db, zone_id)
    plan = inspection_plan(db, zone_id, DAY)
    assert plan.distance_model == "ROAD_NETWORK"
    (route,) = plan.routes
    assert route.stops
    coords = list(route.geometry.coords)
    assert coords[0] == plan.base and coords[-1] == plan.base
    stops = {plan.base, *((s.target.lon, s.target.lat) for s in route.stops)}
    # Every other vertex of the line lies on a road: the snap legs join stops to roads.
    on_road = [c for c in coords if c not in stops]
    far_m = db.execute(
        text(
            "SELECT max(d) FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS p(x, y)"
            " CROSS JOIN LATERAL (SELECT min(ST_Distance(geom::geography,"
            " ST_SetSRID(ST_MakePoint(x, y), 4326)::geography)) AS d FROM road) AS near"
        ),
        {"lons": [x for x, _ in on_road], "lats": [y for _, y in on_road]},
    ).scalar()
    assert far_m < 1.0
    # Along the roads the line is no shorter than the stops joined straight, and no longer
    # than the distance the plan reports (which adds the detour factor on the snap legs).
    line_m = GEOD.geometry_length(route.geometry)
    stop_points = [plan.base, *((s.target.lon, s.target.lat) for s in route.stops), plan.base]
    crow_m = haversine_m(stop_points)
    assert line_m >= sum(crow_m[k, k + 1] for k in range(len(stop_points) - 1)) * 0.995
    assert line_m <= route.distance_m * 1.005
    assert len(coords) > len(stop_points)  # it bends at the junctions


def _grid_file(db: Connection, zone_id: int, tmp_path):
    path = tmp_path / "grid.osm"
    write_grid(path, *zone_box(db, zone_id))
    return path


def test_cli_refuses_a_missing_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.parser().parse_args(["import-roads", str(tmp_path / "missing.osm")])
    assert exit.value.code != 0
    assert "no such file" in capsys.readouterr().err


def test_cli_imports_into_a_database(engine: Engine, tmp_path, monkeypatch, capsys):
    path = tmp_path / "grid.osm"
    grid = write_grid(path, 119.55, 25.86, 119.59, 25.88)
    with scratch_database(engine, "roads") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
        # Settings are read once per process: hand the command this database's instead.
        settings = replace(get_settings(), database_url=url)
        monkeypatch.setattr(cli, "get_settings", lambda: settings)
        monkeypatch.setattr(sys, "argv", ["fugong", "import-roads", str(path)])
        cli.main()
        with scratch.connect() as connection:
            roads = connection.execute(text("SELECT count(*) FROM road")).scalar()
        scratch.dispose()
    assert roads == grid.roads
    assert capsys.readouterr().out.strip() == f"{grid.ways} ways, {grid.roads} roads, 38 vertices"


NO_RIDEABLE_WAYS = """<?xml version="1.0"?><osm version="0.6">
<node id="1" lat="25.87" lon="119.57"/><node id="2" lat="25.871" lon="119.571"/>
<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
<way id="11"><nd ref="1"/><nd ref="99"/><tag k="highway" v="residential"/></way>
</osm>"""


def run_cli(monkeypatch, url: str, *arguments: str) -> None:
    settings = replace(get_settings(), database_url=url)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(sys, "argv", ["fugong", "import-roads", *arguments])
    cli.main()


def test_a_file_without_rideable_ways_is_refused_and_roads_can_be_cleared(
    engine: Engine, tmp_path, monkeypatch, capsys
):
    grid_path, empty = tmp_path / "grid.osm", tmp_path / "footways.osm"
    grid = write_grid(grid_path, 119.55, 25.86, 119.59, 25.88)
    empty.write_text(NO_RIDEABLE_WAYS)
    with scratch_database(engine, "noroads") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
        run_cli(monkeypatch, url, str(grid_path))
        with pytest.raises(SystemExit) as refused:  # a message, not a traceback
            run_cli(monkeypatch, url, str(empty))
        assert "no rideable ways" in str(refused.value.code)
        assert "--clear" in str(refused.value.code)
        with scratch.connect() as connection:
            kept = connection.execute(text("SELECT count(*) FROM road")).scalar()
        run_cli(monkeypatch, url, "--clear")
        with scratch.connect() as connection:
            cleared = connection.execute(text("SELECT count(*) FROM road_vertex")).scalar()
        scratch.dispose()
    assert kept == grid.roads and cleared == 0
    assert "removed" in capsys.readouterr().out
