"""tile_cache and route_plan stay within their bounds: filled past them, pruning keeps the
newest that fit, and a plan for a day outside the window is answered but never stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geo.days import TIMEZONE, today
from geo.retention import Retention, prune

TILE_BYTES = 100_000


def add_tile(db: Connection, n: int, age: timedelta) -> None:
    db.execute(
        text(
            "INSERT INTO tile_cache (layer, z, x, y, scope, filters, mvt, etag, bounds, created_at)"
            " VALUES ('enterprises', 14, :n, 0, 'anonymous', '', :mvt, :etag,"
            " ST_MakeEnvelope(119.4, 25.8, 119.5, 25.9, 4326),"
            " now() - :age)"
        ),
        {"n": n, "mvt": bytes(TILE_BYTES), "etag": f'W/"{n}"', "age": age},
    )


def test_tiles_past_the_age_and_size_bounds_are_pruned_oldest_first(db: Connection) -> None:
    db.execute(text("DELETE FROM tile_cache"))
    ages = {n: timedelta(minutes=n) for n in range(30)}  # 3 MB, a minute apart
    ages |= {100 + n: timedelta(hours=2, minutes=n) for n in range(5)}  # past the age bound
    for n, age in ages.items():
        add_tile(db, n, age)
    bound = Retention(tile_max_age_h=1, tile_max_mb=1)

    deleted = prune(db, bound)

    kept = {row.x for row in db.execute(text("SELECT x FROM tile_cache"))}
    # Independently: the newest tiles younger than an hour whose bytes fit in 1 MiB.
    young = sorted((age, n) for n, age in ages.items() if age < timedelta(hours=1))
    fit = (1024 * 1024) // TILE_BYTES
    assert kept == {n for _, n in young[:fit]} and len(kept) == 10
    total = db.execute(text("SELECT sum(octet_length(mvt)) FROM tile_cache")).scalar_one()
    assert total <= 1024 * 1024
    assert deleted["tile_cache"] == len(ages) - fit


def add_plan(db: Connection, zone_id: int, day_offset: int, inspectors: int, age_min: int) -> None:
    db.execute(
        text(
            "INSERT INTO route_plan (zone_id, day, inspectors, shift_minutes, fingerprint, plan,"
            " planned_at, solve_ms) VALUES (:zone, :day, :inspectors, 480, '', '{}',"
            " now() - :age, 1)"
        ),
        {
            "zone": zone_id,
            "day": today() + timedelta(days=day_offset),
            "inspectors": inspectors,
            "age": timedelta(minutes=age_min),
        },
    )


def test_plans_outside_the_window_or_past_the_row_bound_are_pruned(db, zone_id) -> None:
    db.execute(text("DELETE FROM route_plan"))
    rows = {}  # (day offset, inspectors) -> minutes since planned
    for offset in range(-5, 5):
        for inspectors in (1, 2):
            rows[(offset, inspectors)] = abs(offset) * 10 + inspectors
            add_plan(db, zone_id, offset, inspectors, rows[(offset, inspectors)])
    bound = Retention(plan_days_back=2, plan_days_ahead=1, plan_max_rows=4)

    prune(db, bound)

    kept = {
        ((row.day - today()).days, row.inspectors)
        for row in db.execute(text("SELECT day, inspectors FROM route_plan"))
    }
    inside = sorted((age, key) for key, age in rows.items() if -2 <= key[0] <= 1)
    assert kept == {key for _, key in inside[:4]}


@pytest.mark.parametrize(
    ("offset", "storable"), [(-8, False), (-7, True), (0, True), (7, True), (8, False)]
)
def test_a_plan_is_storable_only_within_the_window(offset: int, storable: bool) -> None:
    window = Retention(plan_days_back=7, plan_days_ahead=7)
    assert window.storable(today() + timedelta(days=offset)) is storable


def test_a_route_outside_the_window_is_answered_but_not_stored(db, as_user, zone_id) -> None:
    day = datetime(2019, 12, 30, tzinfo=TIMEZONE).date()  # before the suite's window opens
    answer = as_user("inspector").data(
        'query ($zone: ID!) { inspectionRoute(zoneId: $zone, date: "2019-12-30") { plannedAt } }',
        zone=f"PatrolZone:{zone_id}",
    )
    assert answer["inspectionRoute"]["plannedAt"]
    stored = db.execute(text("SELECT count(*) FROM route_plan WHERE day = :d"), {"d": day})
    assert stored.scalar_one() == 0
