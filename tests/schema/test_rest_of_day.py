"""Each stop's priority in GraphQL, and the rest of the day re-planned from where the inspector
is: visited stops stay as they were, the rest leaves from the position at the time given, fits
in what is left of the shift, and the zone's stored plan is not touched."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import text

from tests.schema.test_route_plans_api import RECORD, solves

DAY = "2020-02-28"
PLAN = """query ($zone: ID!, $inspectors: Int, $here: RestOfDayInput) {
  inspectionRoute(zoneId: $zone, date: "2020-02-28", inspectors: $inspectors, shiftMinutes: 240,
                  restOfDayFrom: $here) {
    plannedAt
    routes { geometry stops { sequence visited reason priority plannedArrival
      target { ... on Enterprise { id } ... on ConstructionSite { id } ... on RentalProperty { id } }
    } }
    unvisited { ... on Enterprise { id } ... on ConstructionSite { id } ... on RentalProperty { id } }
  } }"""
SHIFT_END = datetime.fromisoformat(f"{DAY}T12:30:00+08:00")  # 08:30 and 240 minutes


def plan(inspector, zone: int, here: dict | None = None, inspectors: int = 1) -> dict:
    variables = {"zone": f"PatrolZone:{zone}", "here": here, "inspectors": inspectors}
    return inspector.data(PLAN, **variables)["inspectionRoute"]  # type: ignore[no-any-return]


def stop_ids(answer: dict) -> list[str]:
    return [s["target"]["id"] for s in answer["routes"][0]["stops"]]


def point_of(db, global_id: str) -> tuple[float, float]:
    kind, _, number = global_id.partition(":")
    column = {"Enterprise": "e.geom", "RentalProperty": "e.geom"}.get(kind, "e.entrance")
    table = {"Enterprise": "enterprise", "RentalProperty": "rental_property"}.get(
        kind, "construction_site"
    )
    sql = f"SELECT ST_X({column}), ST_Y({column}) FROM {table} e WHERE e.id = :id"  # noqa: S608
    return tuple(db.execute(text(sql), {"id": int(number)}).one())


def test_every_stop_says_its_priority_as_its_reason_does(as_user, zone_id):
    answer = plan(as_user("inspector"), zone_id)
    stops = answer["routes"][0]["stops"]
    assert stops
    for stop in stops:
        reason = stop["reason"]
        expected = (
            "FOLLOW_UP"
            if reason.startswith("yellow flag")
            else "ROUTINE"
            if reason.startswith("routine check")
            else "URGENT"  # red flags, unfiled rentals, out-of-province tenants
        )
        assert stop["priority"] == expected, stop


def test_the_rest_of_the_day_leaves_from_here_and_keeps_the_visited(db, as_user, zone_id):
    inspector = as_user("inspector")
    first = plan(inspector, zone_id)
    visited = stop_ids(first)[0]
    lon, lat = point_of(db, visited)
    visit = {"idempotencyKey": "rest-of-day", "targetId": visited,
             "at": f"{DAY}T09:00:00+08:00", "findings": "checked", "gpsAccuracyMeters": 5,
             "location": {"type": "Point", "coordinates": [lon, lat]}}  # fmt: skip
    inspector.data(RECORD, input=visit)
    # 600 m east of the visited stop, at 10:30.
    here_lon = lon + 600 / (111_320 * math.cos(math.radians(lat)))
    now = datetime.fromisoformat(f"{DAY}T10:30:00+08:00")
    here = {"position": {"type": "Point", "coordinates": [here_lon, lat]}, "at": now.isoformat()}
    rest = plan(inspector, zone_id, here)

    stops = rest["routes"][0]["stops"]
    assert [s["sequence"] for s in stops] == list(range(1, len(stops) + 1))
    assert stops[0]["target"]["id"] == visited and stops[0]["visited"]
    assert not any(s["visited"] for s in stops[1:])
    before = set(stop_ids(first)) | {t["id"] for t in first["unvisited"]}
    after = set(stop_ids(rest)) | {t["id"] for t in rest["unvisited"]}
    assert after == before  # nothing due is lost, nothing added
    assert rest["routes"][0]["geometry"]["coordinates"][0] == [here_lon, lat]
    if len(stops) > 1:
        # Straight line (no roads in the test zone): 1.3 x the great circle at 25 km/h.
        nxt = point_of(db, stops[1]["target"]["id"])
        metres = _haversine_m((here_lon, lat), nxt) * 1.3
        arrival = datetime.fromisoformat(stops[1]["plannedArrival"])
        assert abs((arrival - now).total_seconds() - metres / (25 / 3.6)) < 2
        last = datetime.fromisoformat(stops[-1]["plannedArrival"])
        assert now < last < SHIFT_END
    # The zone's stored plan is the one it was: not re-solved, not overwritten.
    again = plan(inspector, zone_id)
    assert again["plannedAt"] == first["plannedAt"] and stop_ids(again) == stop_ids(first)
    assert solves(db, zone_id) == 1


def test_after_the_shift_everything_left_is_unvisited(as_user, zone_id):
    inspector = as_user("inspector")
    first = plan(inspector, zone_id)
    late = (SHIFT_END + timedelta(minutes=5)).isoformat()
    here = {"position": {"type": "Point", "coordinates": [119.6, 25.9]}, "at": late}
    rest = plan(inspector, zone_id, here)
    assert rest["routes"][0]["stops"] == []
    assert {t["id"] for t in rest["unvisited"]} == set(stop_ids(first)) | {
        t["id"] for t in first["unvisited"]
    }


def test_a_re_plan_needs_the_day_and_one_inspector(as_user, zone_id):
    inspector = as_user("inspector")
    point = {"type": "Point", "coordinates": [119.6, 25.9]}
    cases = [
        ({"position": point, "at": "2020-02-29T10:00:00+08:00"}, 1, "2020-02-28"),
        ({"position": point, "at": f"{DAY}T10:00:00+08:00"}, 2, "one inspector"),
        ({"position": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
          "at": f"{DAY}T10:00:00+08:00"}, 1, "position"),
    ]  # fmt: skip
    for here, inspectors, says in cases:
        error = inspector.error(
            PLAN, zone=f"PatrolZone:{zone_id}", here=here, inspectors=inspectors
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and says in error["message"]


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))
