"""The field inspector's day through the API: today's route, its exports, and visits recorded
from a phone that reports GCJ-02 and retries."""

from __future__ import annotations

import json
import math
import re
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta

import prcoords
import shapely
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from geo import inspections
from geo.accounts import caller
from geo.crs import Crs
from geo.due import due_targets
from geo.flag_rules import DEFAULT_THRESHOLDS
from geo.inspections import DEFAULT_FENCE, Visit
from geo.targets import Target, TargetKind

DAY = "2020-02-28"
PLAN = """query ($zone: ID!, $shift: Int) { inspectionRoute(zoneId: $zone, date: "2020-02-28",
  shiftMinutes: $shift) { zone { id base } date distanceModel
  routes { distanceMeters durationMinutes geometry
    stops { sequence reason plannedArrival target { __typename ... on Enterprise { id flag { color } }
      ... on ConstructionSite { id flag { color } } ... on RentalProperty { id } }
      navigation { app coordinateType markerUrl } } }
  unvisited { __typename ... on Enterprise { id } ... on ConstructionSite { id } ... on RentalProperty { id } } } }"""
RECORD = """mutation ($input: RecordInspectionInput!) { recordInspection(input: $input) {
  id at findings distanceMeters geometry target { ... on Enterprise { id flag { color reason } } } } }"""


def test_a_short_shift_keeps_every_red_target_and_lists_the_rest(db, as_user, zone_id):
    zone = zone_id
    plan = as_user("inspector").data(PLAN, zone=f"PatrolZone:{zone}", shift=480)["inspectionRoute"]
    (route,) = plan["routes"]
    line = shapely.geometry.shape(route["geometry"])
    base = shapely.geometry.shape(plan["zone"]["base"])
    assert line.coords[0] == line.coords[-1] and shapely.Point(line.coords[0]).distance(base) < 1e-7
    visited = [stop["target"]["id"] for stop in route["stops"]]
    unvisited = [target["id"] for target in plan["unvisited"]]
    assert unvisited, "the demo zone has more due than one shift holds"
    due = {t.global_id for t in due_targets(db, zone, date.fromisoformat(DAY))}
    assert sorted(visited + unvisited) == sorted(due)  # each due target once, in one place
    red = {t.global_id for t in due_targets(db, zone, date.fromisoformat(DAY))
           if t.kind.value != "RentalProperty" and t.priority == 1}  # fmt: skip
    assert red <= set(visited)
    arrivals = [stop["plannedArrival"] for stop in route["stops"]]
    assert arrivals == sorted(arrivals) and route["durationMinutes"] <= 480
    assert [s["sequence"] for s in route["stops"]] == list(range(1, len(visited) + 1))
    assert {link["coordinateType"] for link in route["stops"][0]["navigation"]} == {"GCJ02", "BD09"}


def test_routes_are_for_those_who_may_see_the_zone(db, anonymous, as_user, zone_id):
    zone = zone_id
    other = db.execute(
        text("SELECT id FROM patrol_zone WHERE id <> :z ORDER BY id LIMIT 1"), {"z": zone}
    ).scalar_one()
    assert (
        anonymous.error(PLAN, zone=f"PatrolZone:{zone}")["extensions"]["code"] == "UNAUTHENTICATED"
    )
    assert (
        as_user("inspector").error(PLAN, zone=f"PatrolZone:{other}")["extensions"]["code"]
        == "FORBIDDEN"
    )
    error = as_user("inspector").error(PLAN, zone=f"PatrolZone:{zone}", shift=5)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def ogr_layer(path, layer: str) -> str:
    return subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", str(path), layer],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_gpx_and_geojson_exports_read_back_by_gdal(client, tokens, tmp_path, zone_id):
    zone = zone_id
    headers = {"Authorization": f"Bearer {tokens['inspector']}"}
    url = f"/routes/PatrolZone:{zone}/{DAY}"
    gpx = client.get(f"{url}.gpx", headers=headers, params={"shiftMinutes": 240})
    assert gpx.status_code == 200 and gpx.headers["content-type"].startswith("application/gpx+xml")
    (tmp_path / "route.gpx").write_bytes(gpx.content)
    names = re.findall(
        r"^\s+name \(String\) = (.*)$", ogr_layer(tmp_path / "route.gpx", "route_points"), re.M
    )
    stops = [n for n in names[1:-1]]
    assert names[0] == names[-1] and stops
    assert [int(n.split(".")[0]) for n in stops] == list(range(1, len(stops) + 1))
    geojson = client.get(f"{url}.geojson", headers=headers, params={"shiftMinutes": 240})
    assert geojson.status_code == 200
    (tmp_path / "route.geojson").write_bytes(geojson.content)
    counted = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "route.geojson")],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert int(re.search(r"Feature Count: (\d+)", counted).group(1)) == len(
        json.loads(geojson.content)["features"]
    )
    assert client.get(f"{url}.gpx").status_code == 401
    assert client.get(f"{url}.kml", headers=headers).status_code == 404
    assert (
        client.get(f"/routes/PatrolZone:{zone}/yesterday.gpx", headers=headers).status_code == 400
    )


def red_enterprise_of_inspector(db: Connection) -> tuple[int, float, float]:
    return db.execute(text(
        "SELECT e.id, ST_X(e.geom), ST_Y(e.geom) FROM enterprise e"
        " JOIN patrol_zone z ON ST_Intersects(z.boundary, e.geom)"
        " JOIN account_zone az ON az.zone_id = z.id JOIN account a ON a.id = az.account_id"
        " WHERE a.username = 'inspector' AND e.flag_color = 'RED' ORDER BY e.id LIMIT 1"
    )).one()  # fmt: skip


def metres_north(lon: float, lat: float, metres: float) -> tuple[float, float]:
    return lon, lat + metres / 111_320


def gcj(lon: float, lat: float) -> list[float]:
    gcj_lat, gcj_lon = prcoords.wgs_gcj((lat, lon))
    return [gcj_lon, gcj_lat]


def test_a_gcj02_visit_50_m_away_is_recorded_once_and_moves_the_flag(db, as_user):
    enterprise, lon, lat = red_enterprise_of_inspector(db)
    inspector = as_user("inspector")
    visit = {
        "idempotencyKey": "phone-7:visit-1",
        "targetId": f"Enterprise:{enterprise}",
        "at": "2020-02-28T09:30:00+08:00",
        "location": {"type": "Point", "coordinates": gcj(*metres_north(lon, lat, 50))},
        "crs": "GCJ02",
        "findings": "已复工，防疫措施到位",
        "gpsAccuracyMeters": 8,
        "resumption": {"status": "FULL", "staffReturned": None, "problems": []},
    }
    first = inspector.data(RECORD, input=visit)["recordInspection"]
    assert math.isclose(first["distanceMeters"], 50, abs_tol=1.0)
    stored = first["geometry"]["coordinates"]
    assert math.isclose(stored[0], lon, abs_tol=1e-6) and math.isclose(
        stored[1], lat + 50 / 111_320, abs_tol=1e-6
    )
    assert first["target"]["flag"]["color"] in {"GREEN", "YELLOW"}
    replay = inspector.data(RECORD, input=visit)["recordInspection"]
    assert replay == first
    rows = db.execute(
        text("SELECT count(*) FROM inspection WHERE idempotency_key = 'phone-7:visit-1'")
    )
    assert rows.scalar_one() == 1


def test_the_geofence_both_ways(db, as_user):
    enterprise, lon, lat = red_enterprise_of_inspector(db)
    inspector = as_user("inspector")
    base = {
        "targetId": f"Enterprise:{enterprise}",
        "at": "2020-02-28T10:00:00+08:00",
        "findings": "x",
        "gpsAccuracyMeters": 5,
    }
    far = {
        **base,
        "idempotencyKey": "far",
        "location": {"type": "Point", "coordinates": list(metres_north(lon, lat, 400))},
    }
    error = inspector.error(RECORD, input=far)
    assert error["extensions"]["code"] == "OUTSIDE_GEOFENCE"
    assert re.search(r"is 39\d m from Enterprise", error["message"])
    # GCJ-02 numbers read as WGS84 land hundreds of metres off: refused, not misfiled.
    misread = {
        **base,
        "idempotencyKey": "misread",
        "location": {"type": "Point", "coordinates": gcj(lon, lat)},
    }
    assert inspector.error(RECORD, input=misread)["extensions"]["code"] == "OUTSIDE_GEOFENCE"
    blurry = {**base, "idempotencyKey": "blurry", "gpsAccuracyMeters": 300,
              "location": {"type": "Point", "coordinates": [lon, lat]}}  # fmt: skip
    assert inspector.error(RECORD, input=blurry)["extensions"]["code"] == "BAD_USER_INPUT"
    near = {
        **base,
        "idempotencyKey": "near",
        "location": {"type": "Point", "coordinates": [lon, lat]},
    }
    assert inspector.data(RECORD, input=near)["recordInspection"]["distanceMeters"] < 1
    assert db.execute(text("SELECT count(*) FROM inspection")).scalar_one() == 1


def test_a_site_is_visited_inside_its_footprint(db, as_user):
    site, inside_lon, inside_lat, out_lon, out_lat = db.execute(text(
        "SELECT s.id, ST_X(ST_PointOnSurface(s.footprint)), ST_Y(ST_PointOnSurface(s.footprint)),"
        " ST_X(ST_Project(s.entrance::geography, 30, radians(0))::geometry),"
        " ST_Y(ST_Project(ST_Centroid(s.footprint)::geography, 2000, radians(0))::geometry)"
        " FROM construction_site s ORDER BY s.id LIMIT 1"
    )).one()  # fmt: skip
    district = as_user("district")
    visit = {
        "targetId": f"ConstructionSite:{site}",
        "at": "2020-02-28T10:00:00+08:00",
        "findings": "ok",
        "gpsAccuracyMeters": 5,
    }
    inside = {
        **visit,
        "idempotencyKey": "in",
        "location": {"type": "Point", "coordinates": [inside_lon, inside_lat]},
    }
    assert district.data(RECORD, input=inside)["recordInspection"]["distanceMeters"] == 0
    outside = {
        **visit,
        "idempotencyKey": "out",
        "location": {"type": "Point", "coordinates": [out_lon, out_lat]},
    }
    assert district.error(RECORD, input=outside)["extensions"]["code"] == "OUTSIDE_GEOFENCE"


def test_two_replays_racing_leave_one_row(engine: Engine):
    with engine.connect() as connection:
        enterprise, lon, lat = red_enterprise_of_inspector(connection)
        account = connection.execute(
            text("SELECT id FROM account WHERE username = 'inspector'")
        ).scalar_one()
    at = datetime.fromisoformat("2020-02-28T11:00:00+08:00")
    target = Target(TargetKind.ENTERPRISE, enterprise)
    visit = Visit("race-key", target, at, shapely.Point(lon, lat), Crs.WGS84, "race", 5.0)
    start, ids, errors = threading.Barrier(2), [], []

    def replay() -> None:
        try:
            with engine.begin() as connection:
                with Session(bind=connection) as session:
                    who = caller(session, account)
                    start.wait(5)
                    ids.append(
                        inspections.record(session, who, visit, DEFAULT_FENCE, DEFAULT_THRESHOLDS)
                    )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=replay) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors and len(ids) == 2 and ids[0] == ids[1]
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM inspection WHERE idempotency_key = 'race-key'")
            )
            assert count.scalar_one() == 1
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM inspection WHERE idempotency_key = 'race-key'"))


def test_progress_counts_the_days_visits(db, as_user, zone_id):
    query = """query ($zone: ID!) { inspectionRoute(zoneId: $zone, date: "2020-02-28") {
        progress { due visited } visited { id target { ... on Enterprise { id } } }
        unvisited { ... on Enterprise { id } } } }"""
    inspector = as_user("inspector")
    before = inspector.data(query, zone=f"PatrolZone:{zone_id}")["inspectionRoute"]
    assert before["progress"]["visited"] == 0 and before["visited"] == []
    enterprise, lon, lat = red_enterprise_of_inspector(db)
    visit = {"idempotencyKey": "progress", "targetId": f"Enterprise:{enterprise}",
             "at": "2020-02-28T09:00:00+08:00", "findings": "ok", "gpsAccuracyMeters": 5,
             "location": {"type": "Point", "coordinates": [lon, lat]}}  # fmt: skip
    inspector.data(RECORD, input=visit)
    after = inspector.data(query, zone=f"PatrolZone:{zone_id}")["inspectionRoute"]
    assert after["progress"] == {"due": before["progress"]["due"], "visited": 1}
    assert [v["target"]["id"] for v in after["visited"]] == [f"Enterprise:{enterprise}"]


def _visit_at_red_enterprise(db: Connection, key: str, at: str) -> dict[str, object]:
    enterprise, lon, lat = red_enterprise_of_inspector(db)
    return {"idempotencyKey": key, "targetId": f"Enterprise:{enterprise}", "at": at,
            "findings": "ok", "gpsAccuracyMeters": 5,
            "location": {"type": "Point", "coordinates": [lon, lat]}}  # fmt: skip


def _history(db: Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in db.execute(text("SELECT * FROM flag_change ORDER BY id"))]


def test_a_phone_clock_ahead_is_refused_and_changes_nothing(db, as_user):
    inspector = as_user("inspector")
    before, inspections_before = _history(db), db.execute(text("SELECT count(*) FROM inspection"))
    count = inspections_before.scalar_one()
    now = datetime.now(UTC)
    for at in (
        "9999-12-31T23:00:00-08:00",  # the year 10000 in UTC: once stored, then unreadable
        "2099-06-01T09:00:00+08:00",  # would date every later flag change of the target after it
        (now + timedelta(minutes=30)).isoformat(),
    ):
        visit = {**_visit_at_red_enterprise(db, f"ahead-{at}", at),
                 "resumption": {"status": "FULL", "problems": []}}  # fmt: skip
        error = inspector.error(RECORD, input=visit)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert _history(db) == before
    assert db.execute(text("SELECT count(*) FROM inspection")).scalar_one() == count
    # A clock a minute fast is a clock: the window is FUGONG_MAX_CLOCK_SKEW_MINUTES (5).
    fast = _visit_at_red_enterprise(db, "fast", (now + timedelta(minutes=1)).isoformat())
    assert inspector.data(RECORD, input=fast)["recordInspection"]["id"]


def test_a_visit_without_its_gps_accuracy_is_refused(db, as_user):
    visit = _visit_at_red_enterprise(db, "no-accuracy", "2020-02-28T09:00:00+08:00")
    del visit["gpsAccuracyMeters"]
    error = as_user("inspector").error(RECORD, input=visit)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "gpsAccuracyMeters" in error["message"]
    assert db.execute(text("SELECT count(*) FROM inspection")).scalar_one() == 0


def test_a_key_sent_again_with_another_payload_is_a_conflict(db, as_user):
    inspector = as_user("inspector")
    visit = _visit_at_red_enterprise(db, "phone-9:visit-1", "2020-02-28T09:00:00+08:00")
    first = inspector.data(RECORD, input=visit)["recordInspection"]
    assert inspector.data(RECORD, input=visit)["recordInspection"] == first
    error = inspector.error(RECORD, input={**visit, "findings": "another visit"})
    assert error["extensions"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert "phone-9:visit-1" in error["message"]
    findings = db.execute(text("SELECT findings FROM inspection WHERE idempotency_key = :k"),
                          {"k": "phone-9:visit-1"}).scalars().all()  # fmt: skip
    assert findings == ["ok"]
