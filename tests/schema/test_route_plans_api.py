"""Stored route plans through the API: GraphQL, GPX and GeoJSON answer one stored plan, solved
once; visits mark stops without re-planning; a flag turned red re-plans; every pull is checked
against the caller's scope, stored plan or not."""

from __future__ import annotations

from datetime import datetime

import gpxpy
from sqlalchemy import text

from geo.targets import TargetKind
from tests.geo.test_route_plans import record_visit

DAY = "2020-02-28"
PULL = """query ($zone: ID!, $shift: Int) {
  inspectionRoute(zoneId: $zone, date: "2020-02-28", shiftMinutes: $shift) {
    plannedAt progress { due visited }
    routes { stops { sequence visited target { ... on Enterprise { id flag { color } }
      ... on ConstructionSite { id } ... on RentalProperty { id } } } }
    unvisited { ... on Enterprise { id flag { color } } } } }"""
RECORD = """mutation ($input: RecordInspectionInput!) { recordInspection(input: $input) { id } }"""
# All a stored plan holds: a repeated pull is cut from it by PostgreSQL (geo/routing/answer.py).
CUT = """query ($zone: ID!) { inspectionRoute(zoneId: $zone, date: "2020-02-28", shiftMinutes: 300) {
    plannedAt routes { __typename distanceMeters durationMinutes geometry
      stops { sequence reason priority plannedArrival visited
        target { __typename ... on Node { id } ... on Enterprise { name }
                 ... on ConstructionSite { name } } } }
    unvisited { ... on Node { id } __typename } } }"""
OVERRIDE = """mutation ($id: ID!) {
  overrideFlag(targetId: $id, color: RED, reason: "停产整顿") { color } }"""


def pull(client, zone: int, shift: int = 240) -> dict:
    return client.data(PULL, zone=f"PatrolZone:{zone}", shift=shift)["inspectionRoute"]


def stops(plan: dict) -> list[str]:
    return [stop["target"]["id"] for route in plan["routes"] for stop in route["stops"]]


def solves(db, zone: int) -> int:
    return db.execute(
        text("SELECT sum(solves) FROM route_plan WHERE zone_id = :z"), {"z": zone}
    ).scalar_one()


def test_graphql_gpx_and_geojson_answer_one_plan_solved_once(db, as_user, client, tokens, zone_id):
    inspector = as_user("inspector")
    first = pull(inspector, zone_id)
    again = pull(inspector, zone_id)
    assert again == first and stops(first)
    headers = {"Authorization": f"Bearer {tokens['inspector']}"}
    url = f"/routes/PatrolZone:{zone_id}/{DAY}"
    geojson = client.get(f"{url}.geojson", headers=headers, params={"shiftMinutes": 240}).json()
    gpx = gpxpy.parse(client.get(f"{url}.gpx", headers=headers, params={"shiftMinutes": 240}).text)
    planned_at = datetime.fromisoformat(first["plannedAt"])
    assert datetime.fromisoformat(geojson["plannedAt"]) == planned_at == gpx.time
    points = [f for f in geojson["features"] if f["geometry"]["type"] == "Point"]
    assert [f["id"] for f in points] == stops(first)
    names = [p.name for p in gpx.routes[0].points[1:-1]]
    assert names == [f"{f['properties']['sequence']}. {f['properties']['name']}" for f in points]
    assert solves(db, zone_id) == 1  # four pulls, one solve


def test_a_visit_marks_its_stop_and_keeps_the_order(db, as_user, client, tokens, zone_id):
    inspector = as_user("inspector")
    first = pull(inspector, zone_id)
    enterprise = next(s for s in stops(first) if s.startswith("Enterprise:"))
    lon, lat = db.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM enterprise WHERE id = :id"),
        {"id": int(enterprise.partition(":")[2])},
    ).one()
    visit = {"idempotencyKey": "plan-visit", "targetId": enterprise,
             "at": "2020-02-28T09:05:00+08:00", "findings": "已复工", "gpsAccuracyMeters": 5,
             "location": {"type": "Point", "coordinates": [lon, lat]},
             "resumption": {"status": "FULL", "staffReturned": None, "problems": []}}  # fmt: skip
    inspector.data(RECORD, input=visit)  # the report moves its flag: no matter, it is visited
    after = pull(inspector, zone_id)
    assert after["plannedAt"] == first["plannedAt"] and stops(after) == stops(first)
    marked = [s["target"]["id"] for r in after["routes"] for s in r["stops"] if s["visited"]]
    assert marked == [enterprise]
    assert after["progress"] == {"due": first["progress"]["due"], "visited": 1}
    headers = {"Authorization": f"Bearer {tokens['inspector']}"}
    url = f"/routes/PatrolZone:{zone_id}/{DAY}.geojson"
    geojson = client.get(url, headers=headers, params={"shiftMinutes": 240}).json()
    visited = [f["id"] for f in geojson["features"] if f["properties"].get("visited")]
    assert visited == [enterprise] and solves(db, zone_id) == 1


def test_a_flag_turned_red_re_plans(db, as_user, zone_id):
    inspector = as_user("inspector")
    first = pull(inspector, zone_id)
    yellow = next(t["id"] for t in first["unvisited"] if t and t["flag"]["color"] == "YELLOW")
    assert as_user("district").data(OVERRIDE, id=yellow)["overrideFlag"]["color"] == "RED"
    after = pull(inspector, zone_id)
    later = datetime.fromisoformat(after["plannedAt"]) > datetime.fromisoformat(first["plannedAt"])
    assert later and yellow in stops(after)
    assert solves(db, zone_id) == 2


def test_every_pull_checks_the_caller_first(db, as_user, anonymous, client, tokens, zone_id):
    other = db.execute(
        text("SELECT id FROM patrol_zone WHERE id <> :z ORDER BY id LIMIT 1"), {"z": zone_id}
    ).scalar_one()
    pull(as_user("district"), other)  # stored now, for a caller who may see it
    query = {"zone": f"PatrolZone:{other}", "shift": 240}
    assert as_user("inspector").error(PULL, **query)["extensions"]["code"] == "FORBIDDEN"
    assert anonymous.error(PULL, **query)["extensions"]["code"] == "UNAUTHENTICATED"
    headers = {"Authorization": f"Bearer {tokens['inspector']}"}
    url = f"/routes/PatrolZone:{other}/{DAY}"
    assert (
        client.get(f"{url}.gpx", headers=headers, params={"shiftMinutes": 240}).status_code == 403
    )
    assert client.get(f"{url}.geojson", params={"shiftMinutes": 240}).status_code == 401
    bad = client.get(f"{url}.gpx", headers=headers, params={"inspectors": 0})
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == (
        "BAD_USER_INPUT"
    )
    assert solves(db, other) == 1


def test_a_stored_pull_reads_its_targets_in_a_few_statements(as_user, zone_id, statements):
    inspector = as_user("inspector")
    pull(inspector, zone_id, shift=60)  # solved and stored
    statements.clear()
    plan = pull(inspector, zone_id, shift=60)
    queries = [s for s in statements if s.startswith(("SELECT", "WITH"))]
    # A short shift leaves most targets unvisited; they load together, not one by one.
    assert len(plan["unvisited"]) > 50 and stops(plan)
    assert len(queries) <= 8, [q[:80] for q in queries]


def test_a_repeated_pull_is_cut_from_the_stored_plan_as_the_resolvers_answer(
    db, as_user, zone_id, statements
):
    inspector = as_user("inspector")
    first = inspector.data(CUT, zone=f"PatrolZone:{zone_id}")  # solved: the resolvers answer
    statements.clear()
    again = inspector.data(CUT, zone=f"PatrolZone:{zone_id}")
    assert again == first and first["inspectionRoute"]["routes"][0]["stops"]
    reads = [s for s in statements if s.lstrip().startswith(("SELECT", "WITH"))]
    # The account and the zone's scope checked, then the plan: no target loaded.
    assert len(reads) <= 4 and "route_plan" in reads[-1], [s[:80] for s in reads]
    assert solves(db, zone_id) == 1


def test_a_check_in_is_marked_in_the_cut_answer_without_solving(db, as_user, zone_id):
    inspector = as_user("inspector")
    first = inspector.data(CUT, zone=f"PatrolZone:{zone_id}")["inspectionRoute"]
    stop = first["routes"][0]["stops"][0]
    kind, _, number = stop["target"]["id"].partition(":")
    record_visit(db, TargetKind(kind), int(number), "2020-02-28T09:00:00+08:00")
    checked = inspector.data(CUT, zone=f"PatrolZone:{zone_id}")["inspectionRoute"]  # stamped
    cut = inspector.data(CUT, zone=f"PatrolZone:{zone_id}")["inspectionRoute"]
    assert cut == checked and cut["plannedAt"] == first["plannedAt"]
    assert cut["routes"][0]["stops"][0]["visited"] and not first["routes"][0]["stops"][0]["visited"]
    assert solves(db, zone_id) == 1
