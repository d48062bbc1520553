"""Stored day plans: a second pull answers the stored plan without solving; a change to what the
plan was solved from re-plans; a visit does not; racing pulls on two connections solve once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import Connection, Engine, event, text

from geo import flag_writes
from geo.due import Priority, due_targets
from geo.flag_rules import FlagColor
from geo.osm_roads import import_osm
from geo.routing import PlanKey, PlanSettings, StoredPlan, reused, stored_plan
from geo.routing.codec import plan_targets
from geo.routing.inputs import zone_day
from geo.routing.stored import fingerprint
from geo.targets import Target, TargetKind
from tests.geo.osm import write_grid
from tests.geo.test_roads import zone_box

DAY = date(2020, 2, 28)
FAST = PlanSettings(time_limit_s=0.3)  # the zone's 160 due targets; what is tested is the store


def pull(db: Connection, key: PlanKey) -> StoredPlan:
    return stored_plan(db, key, FAST)


def order(stored: StoredPlan) -> list[list[str]]:
    return [[s.target.global_id for s in route.stops] for route in stored.plan.routes]


def solves(db: Connection, key: PlanKey) -> int:
    return db.execute(
        text(
            "SELECT solves FROM route_plan WHERE zone_id = :zone_id AND day = :day"
            " AND inspectors = :inspectors AND shift_minutes = :shift_minutes"
        ),
        vars(key),
    ).scalar_one()


@pytest.fixture
def key(zone_id: int) -> PlanKey:
    return PlanKey(zone_id, DAY, 1, 480)


@pytest.fixture
def first(db: Connection, key: PlanKey) -> StoredPlan:
    """The morning's first pull: solved and stored."""
    assert reused(db, key, FAST) is None
    stored = pull(db, key)
    assert stored.solves == 1 == solves(db, key)
    return stored


def test_a_second_pull_answers_the_stored_plan_without_solving(db, key, first):
    again = pull(db, key)
    assert again.plan == first.plan  # every stop, arrival, length and line, read back exactly
    assert order(again) == order(first) and again.plan.routes[0].stops
    assert again.planned_at == first.planned_at and solves(db, key) == 1


def test_a_repeated_pull_is_one_statement(db, key, first):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    event.listen(db, "before_cursor_execute", seen)
    try:
        assert reused(db, key, FAST) is not None
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert len(statements) == 1  # the inputs digested beside the stored row
    assert "route_plan" in statements[0]


def test_other_team_sizes_and_shifts_are_other_plans(db, key, first):
    other = pull(db, PlanKey(key.zone_id, DAY, 2, 480))
    assert other.solves == 1 and len(other.plan.routes) == 2
    assert pull(db, key).planned_at == first.planned_at


def test_a_flag_going_red_re_plans(db, key, first):
    yellow = next(t for t in first.plan.unvisited if t.priority is Priority.FOLLOW_UP)
    target = Target(yellow.kind, yellow.id)
    flag_writes.override(db, target, FlagColor.RED, "停产", "test", datetime.now().astimezone())
    again = pull(db, key)
    assert again.solves == 2 and again.planned_at > first.planned_at
    # A red flag is never left out for anything less: it is on the route now.
    assert yellow.global_id in {g for route in order(again) for g in route}


def test_a_target_newly_due_re_plans(db, key, zone_id, first):
    due = {t.global_id for t in plan_targets(first.plan)}
    quiet = db.execute(
        text(
            "SELECT r.id FROM rental_property r JOIN patrol_zone z ON ST_Intersects(z.boundary,"
            " r.geom) WHERE z.id = :zone ORDER BY r.id"
        ),
        {"zone": zone_id},
    ).scalars()
    rental = next(r for r in quiet if f"RentalProperty:{r}" not in due)
    db.execute(
        text(
            "UPDATE rental_property SET tenants_total = tenants_total + 2,"
            " tenants_out_of_province = tenants_out_of_province + 2 WHERE id = :id"
        ),
        {"id": rental},
    )
    again = pull(db, key)
    assert again.solves == 2
    assert f"RentalProperty:{rental}" in {t.global_id for t in plan_targets(again.plan)}


def test_a_moved_target_re_plans(db, key, first):
    move = {
        TargetKind.ENTERPRISE: "UPDATE enterprise SET geom = ST_Translate(geom, 0.0005, 0)"
        " WHERE id = :id",
        TargetKind.RENTAL_PROPERTY: "UPDATE rental_property"
        " SET geom = ST_Translate(geom, 0.0005, 0) WHERE id = :id",
    }
    stop = next(s.target for s in first.plan.routes[0].stops if s.target.kind in move)
    db.execute(text(move[stop.kind]), {"id": stop.id})
    again = pull(db, key)
    assert again.solves == 2
    moved = next(t for t in plan_targets(again.plan) if t.global_id == stop.global_id)
    assert moved.lon == pytest.approx(stop.lon + 0.0005)


def test_roads_loaded_into_the_zone_re_plan(db, key, zone_id, first, tmp_path):
    assert first.plan.distance_model == "STRAIGHT_LINE"
    write_grid(tmp_path / "grid.osm", *zone_box(db, zone_id))
    import_osm(db, tmp_path / "grid.osm")
    again = pull(db, key)
    assert again.solves == 2 and again.plan.distance_model == "ROAD_NETWORK"
    stored = pull(db, key)  # and is stored like any other, its line along the roads
    assert stored.planned_at == again.planned_at and stored.plan == again.plan


def test_a_visit_keeps_the_morning_order_and_marks_the_stop(db, key, first):
    stop = first.plan.routes[0].stops[1].target
    record_visit(db, stop.kind, stop.id, "2020-02-28T09:10:00+08:00")
    # It is no longer due, and a report in the visit may have moved its flag: no matter.
    assert stop.global_id not in {t.global_id for t in due_targets(db, key.zone_id, DAY)}
    if stop.kind is not TargetKind.RENTAL_PROPERTY:
        target = Target(stop.kind, stop.id)
        flag_writes.override(
            db, target, FlagColor.GREEN, "已复工", "test", datetime.now().astimezone()
        )
    assert reused(db, key, FAST) is None  # what the rules read has changed: checked again
    again = pull(db, key)
    assert again.planned_at == first.planned_at and solves(db, key) == 1
    assert order(again) == order(first)
    assert again.visited == {stop.global_id}
    stamped = reused(db, key, FAST)  # the plan held: stamped with the new inputs
    assert stamped is not None and stamped.visited == {stop.global_id}


def test_a_visit_the_day_before_is_no_visit_today(db, key, first):
    # An urgent target stays due, for the same reason, however recently it was visited.
    stop = next(s.target for s in first.plan.routes[0].stops if s.target.priority == 1)
    record_visit(db, stop.kind, stop.id, "2020-02-27T16:00:00+08:00")
    again = pull(db, key)
    assert again.visited == frozenset() and again.planned_at == first.planned_at


def test_the_fingerprint_covers_the_base_roads_and_settings(db, key):
    inputs = zone_day(db, key.zone_id, DAY)
    base = fingerprint(inputs, inputs.due, FAST)
    assert fingerprint(inputs, list(reversed(inputs.due)), FAST) == base  # order is no input
    assert fingerprint(replace(inputs, base=(119.5, 25.9)), inputs.due, FAST) != base
    assert fingerprint(replace(inputs, road_version=7), inputs.due, FAST) != base
    assert fingerprint(inputs, inputs.due, PlanSettings(time_limit_s=0.5)) != base
    assert fingerprint(inputs, inputs.due[1:], FAST) != base


def test_the_stored_plan_holds_no_personal_data(db, key, zone_id, first):
    stored = db.execute(
        text("SELECT plan::text FROM route_plan WHERE zone_id = :z AND day = :d"),
        {"z": zone_id, "d": DAY},
    ).scalar_one()
    assert "RentalProperty" in stored  # rentals are on it, so the check below means something
    personal = db.execute(
        text(
            "SELECT unnest(ARRAY[r.address, r.landlord_name, r.landlord_phone])"
            " FROM rental_property r JOIN patrol_zone z ON ST_Intersects(z.boundary, r.geom)"
            " WHERE z.id = :z"
            " UNION ALL SELECT unnest(ARRAY[e.contact_name, e.contact_phone])"
            " FROM enterprise e JOIN patrol_zone z ON ST_Intersects(z.boundary, e.geom)"
            " WHERE z.id = :z"
        ),
        {"z": zone_id},
    ).scalars()
    values = [value for value in personal if value]
    assert values and not [value for value in values if value in stored]


def record_visit(db: Connection, kind: TargetKind, target_id: int, at: str) -> None:
    """An inspection by the demo inspector, at the target's own point."""
    db.execute(
        text(
            """
            INSERT INTO inspection (enterprise_id, construction_site_id, rental_property_id,
                account_id, idempotency_key, at, geom, distance_m, findings)
            SELECT e, s, r, a.id, 'plan-test-' || :kind || :id || :at, :at,
                   coalesce((SELECT geom FROM enterprise WHERE id = e),
                            (SELECT entrance FROM construction_site WHERE id = s),
                            (SELECT geom FROM rental_property WHERE id = r)), 0, 'ok'
            FROM (SELECT CASE :kind WHEN 'Enterprise' THEN :id END AS e,
                         CASE :kind WHEN 'ConstructionSite' THEN :id END AS s,
                         CASE :kind WHEN 'RentalProperty' THEN :id END AS r) AS k,
                 account a
            WHERE a.username = 'inspector'
            """
        ),
        {"kind": kind.value, "id": target_id, "at": at},
    )


# --- Racing pulls ----------------------------------------------------------------------------


@pytest.mark.parametrize("pulls", [2, 4])
def test_racing_pulls_on_separate_connections_solve_once(engine: Engine, pulls: int):
    with engine.connect() as connection:
        zone = connection.execute(
            text(
                "SELECT zone_id FROM account_zone JOIN account ON account.id = account_id"
                " WHERE username = 'inspector'"
            )
        ).scalar_one()
    key = PlanKey(zone, DAY, 3, 300 + pulls)  # a key no other test stores
    start, answers, errors = threading.Barrier(pulls), [], []

    def request() -> None:
        try:
            with engine.begin() as connection:
                start.wait(5)
                answers.append(stored_plan(connection, key, FAST))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=request) for _ in range(pulls)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors and len(answers) == pulls
        assert {a.planned_at for a in answers} == {answers[0].planned_at}
        assert all(order(a) == order(answers[0]) for a in answers)
        with engine.connect() as connection:
            assert solves(connection, key) == 1
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM route_plan WHERE inspectors = :i AND shift_minutes = :s"),
                {"i": key.inspectors, "s": key.shift_minutes},
            )
