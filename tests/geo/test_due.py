"""Who is due: the rules on their own, then against the seeded database (zone, day, timezone)."""

from datetime import UTC, date, datetime

import pytest
import shapely
from sqlalchemy import text

from geo import due
from geo.due import Candidate, Priority, classify, due_targets
from geo.errors import NotFound
from geo.targets import TargetKind

DAY = date(2020, 2, 28)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def candidate(**kw):
    base = {"kind": TargetKind.ENTERPRISE, "id": 1, "name": "通宇电缆", "lon": 119.5, "lat": 25.9}
    return Candidate(**{**base, **kw})


# --- The rules -------------------------------------------------------------------------------


def test_red_flag_is_urgent_with_its_reason():
    due = classify(candidate(flag_color="RED", flag_reason="not back at work"), DAY)
    assert due.priority is Priority.URGENT
    assert due.reason == "red flag: not back at work"
    assert due.service_minutes == 20


def test_unfiled_rental_with_tenants_from_out_of_province():
    rental = candidate(
        kind=TargetKind.RENTAL_PROPERTY,
        filed=False,
        tenants_out_of_province=3,
        last_inspected_at=at(DAY, 1),
    )
    due = classify(rental, DAY)
    assert (due.priority, due.reason) == (
        Priority.URGENT,
        "unfiled rental; 3 tenants from out of province",
    )
    assert due.service_minutes == 10


def test_yellow_is_follow_up():
    due = classify(candidate(flag_color="YELLOW", flag_reason="partly back"), DAY)
    assert (due.priority, due.reason) == (Priority.FOLLOW_UP, "yellow flag: partly back")


def test_green_is_due_only_when_overdue():
    recent = candidate(flag_color="GREEN", last_inspected_at=at(date(2020, 2, 25)))
    assert classify(recent, DAY) is None
    old = classify(candidate(flag_color="GREEN", last_inspected_at=at(date(2020, 2, 19))), DAY)
    assert (old.priority, old.reason) == (
        Priority.ROUTINE,
        "routine check: last inspected 9 days ago",
    )
    never = classify(candidate(kind=TargetKind.CONSTRUCTION_SITE, flag_color="GREEN"), DAY)
    assert never.reason == "routine check: never inspected" and never.service_minutes == 30


def test_days_count_in_shanghai():
    # 2020-02-20 17:00 UTC is already the 21st in Fuzhou: 7 days before the 28th, not 8.
    late = candidate(
        kind=TargetKind.RENTAL_PROPERTY, last_inspected_at=datetime(2020, 2, 20, 17, tzinfo=UTC)
    )
    assert classify(late, DAY).reason == "routine check: last inspected 7 days ago"


# --- Against the database --------------------------------------------------------------------


def test_due_targets_lie_in_the_zone_in_priority_order(db, zone_id):
    due = due_targets(db, zone_id, DAY)
    assert {t.priority for t in due} >= {Priority.URGENT}
    boundary = shapely.from_wkt(
        db.execute(
            text("SELECT ST_AsText(boundary) FROM patrol_zone WHERE id = :z"), {"z": zone_id}
        ).scalar_one()
    )
    sites = {t.id for t in due if t.kind is TargetKind.CONSTRUCTION_SITE}
    for t in due:
        if t.kind is not TargetKind.CONSTRUCTION_SITE:
            assert boundary.covers(shapely.Point(t.lon, t.lat)), t
    keys = [(t.priority, not t.key_project) for t in due]
    assert keys == sorted(keys)
    assert len({(t.kind, t.id) for t in due}) == len(due)
    # Independently: every red enterprise of the zone is due (shapely decides "in the zone").
    reds = db.execute(
        text("SELECT id, ST_AsText(geom) FROM enterprise WHERE flag_color = 'RED'")
    ).all()
    red_in_zone = {i for i, g in reds if boundary.covers(shapely.from_wkt(g))}
    assert red_in_zone == {
        t.id for t in due if t.kind is TargetKind.ENTERPRISE and t.priority is Priority.URGENT
    }
    assert sites <= {s for (s,) in db.execute(text("SELECT id FROM construction_site"))}


def _red_enterprise(db, zone_id):
    return next(
        t
        for t in due_targets(db, zone_id, DAY)
        if t.kind is TargetKind.ENTERPRISE and t.priority is Priority.URGENT
    )


def _inspect(db, column, target_id, when):
    db.execute(
        text(
            f"INSERT INTO inspection ({column}, account_id, idempotency_key, at, geom,"  # noqa: S608
            " distance_m, findings) SELECT :id, id, gen_random_uuid()::text, :at,"
            " ST_SetSRID(ST_MakePoint(119.57, 25.87), 4326), 0, 'ok'"
            " FROM account WHERE username = 'inspector'"
        ),
        {"id": target_id, "at": when},
    )


def test_inspected_today_is_not_due(db, zone_id):
    red = _red_enterprise(db, zone_id)
    # 2020-02-27 17:30 UTC is 01:30 on the 28th in Asia/Shanghai: today.
    _inspect(db, "enterprise_id", red.id, datetime(2020, 2, 27, 17, 30, tzinfo=UTC))
    assert red.id not in {
        t.id for t in due_targets(db, zone_id, DAY) if t.kind is TargetKind.ENTERPRISE
    }
    # The day before, it was still due: the visit lies after that day's end.
    assert red.id in {
        t.id for t in due_targets(db, zone_id, date(2020, 2, 27)) if t.kind is TargetKind.ENTERPRISE
    }


def test_yesterdays_inspection_leaves_a_red_due(db, zone_id):
    red = _red_enterprise(db, zone_id)
    _inspect(db, "enterprise_id", red.id, datetime(2020, 2, 27, 15, 30, tzinfo=UTC))  # 23:30 local
    assert red.id in {
        t.id for t in due_targets(db, zone_id, DAY) if t.kind is TargetKind.ENTERPRISE
    }


def test_green_enterprise_routine_from_its_latest_inspection(db, zone_id):
    red = _red_enterprise(db, zone_id)
    db.execute(
        text(
            "UPDATE enterprise SET flag_color = 'GREEN', flag_reason = 'fully back' WHERE id = :id"
        ),
        {"id": red.id},
    )
    _inspect(db, "enterprise_id", red.id, at(date(2020, 2, 10)))
    _inspect(db, "enterprise_id", red.id, at(date(2020, 2, 19)))
    due = {t.id: t for t in due_targets(db, zone_id, DAY) if t.kind is TargetKind.ENTERPRISE}
    assert due[red.id].reason == "routine check: last inspected 9 days ago"
    _inspect(db, "enterprise_id", red.id, at(date(2020, 2, 26)))
    assert red.id not in {
        t.id for t in due_targets(db, zone_id, DAY) if t.kind is TargetKind.ENTERPRISE
    }


def test_unknown_zone_is_not_found(db):
    with pytest.raises(NotFound):
        due_targets(db, 999_999, DAY)


@pytest.mark.parametrize("day", [date(2020, 2, 3), date(2020, 2, 20), DAY, date(2020, 3, 10)])
def test_the_rules_in_sql_count_as_the_rules_in_python(db, day):
    """The daily briefing counts rounds with due.DUE_SQL and due.VISITED_SQL: for every zone,
    as many due (inspected included) and inspected as sort_out finds, at the seed's start,
    its middle, its end (with the day's visits) and weeks later (routine checks overdue)."""
    counted = dict(
        ((zone, verdict), n)
        for zone, verdict, n in db.execute(
            text(
                f"SELECT z.id, verdict, count(*) FROM patrol_zone z CROSS JOIN LATERAL"  # noqa: S608
                f" (WITH zone AS (SELECT z.boundary, {due.ZONE_BOX}) {due.ZONE_TARGETS}) t,"
                f" LATERAL (SELECT CASE WHEN {due.VISITED_SQL} THEN 'visited'"
                f" WHEN {due.DUE_SQL} THEN 'due' END AS verdict) v"
                " WHERE verdict IS NOT NULL GROUP BY 1, 2"
            ),
            due.count_params(day),
        )
    )
    verdicts = {"due": 0, "visited": 0}
    for zone in db.execute(text("SELECT id FROM patrol_zone")).scalars():
        still_due, visited = due.sort_out(due.candidates(db, zone, day), day)
        assert counted.get((zone, "due"), 0) == len(still_due), (zone, day)
        assert counted.get((zone, "visited"), 0) == len(visited), (zone, day)
        verdicts["due"] += len(still_due)
        verdicts["visited"] += len(visited)
    assert verdicts["due"], "the day has targets due"
