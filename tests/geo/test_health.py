"""Daily health registration and quarantine occupancy against the real database: the counts
rules, corrections kept as history, fever cases in the flag and on the next day's route."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo import due, health, occupancy
from geo.errors import BadInput, InconsistentCounts, NotFound
from geo.health import HealthCounts, check_counts

DAY = date(2020, 2, 27)
AT = datetime(2020, 2, 27, 9, 30, tzinfo=UTC)


def counts(**changed: int | bool | None) -> HealthCounts:
    base = {"on_site": 8, "checked": 8, "fever": 0, "isolated": 0, "out_of_province": 2}
    return HealthCounts(**{"dormitory_disinfected": None, **base, **changed})  # type: ignore[arg-type]


RULES = [
    # (counts, staff total, has dormitory, error class or None, words the message holds)
    (counts(), 10, False, None, ""),
    (counts(on_site=10, checked=10, fever=10), 10, False, None, ""),  # every bound met exactly
    (counts(fever=9), 10, False, InconsistentCounts, "fever (9) cannot exceed checked (8)"),
    (counts(checked=9), 10, False, InconsistentCounts, "checked (9) cannot exceed onSite (8)"),
    (counts(on_site=11, checked=1), 10, False, InconsistentCounts,
     "onSite (11) cannot exceed staffTotal (10)"),
    (counts(isolated=11), 10, False, InconsistentCounts, "isolated (11) cannot exceed"),
    (counts(out_of_province=11), 10, False, InconsistentCounts, "outOfProvince (11)"),
    (counts(fever=-1), 10, False, InconsistentCounts, "fever must be between 0"),
    (counts(), 10, True, BadInput, "say whether it was disinfected"),
    (counts(dormitory_disinfected=True), 10, False, BadInput, "no dormitory"),
    (counts(dormitory_disinfected=False), 10, True, None, ""),
]  # fmt: skip


@pytest.mark.parametrize(("given", "staff", "dormitory", "error", "words"), RULES)
def test_counts_rules(given, staff, dormitory, error, words):
    if error is None:
        check_counts(given, staff, dormitory)
        return
    with pytest.raises(error) as raised:
        check_counts(given, staff, dormitory)
    assert words in raised.value.message
    assert raised.value.code == error.code


@pytest.fixture
def session(db: Connection) -> Session:
    return Session(bind=db, join_transaction_mode="create_savepoint")


def enterprise(db: Connection, color: str, dormitory: bool = False) -> tuple[int, int]:
    """(id, staff total) of an enterprise flying `color`, with room for 8 on site."""
    return db.execute(  # type: ignore[return-value]
        text(
            "SELECT id, staff_total FROM enterprise WHERE flag_color = :c AND staff_total >= 10"
            " AND has_dormitory = :d AND NOT flag_overridden ORDER BY id LIMIT 1"
        ),
        {"c": color, "d": dormitory},
    ).one()


def test_a_later_report_of_the_day_corrects_it_and_both_are_kept(db, session):
    enterprise_id, _ = enterprise(db, "GREEN")
    day = date(2020, 2, 1)  # before the demo's reports
    first = health.record_health(session, enterprise_id, day, counts(), "town", AT)
    second = health.record_health(session, enterprise_id, day, counts(on_site=9), "town", AT)
    assert (first.revision, second.revision) == (1, 2)
    stored = db.execute(
        text("SELECT on_site, revision FROM health_report WHERE enterprise_id = :e AND day = :d"),
        {"e": enterprise_id, "d": day},
    ).one()
    assert tuple(stored) == (9, 2)
    kept = health.revisions(session, enterprise_id, day)
    assert [(r.revision, r.counts.on_site) for r in kept] == [(1, 8), (2, 9)]


def test_history_of_reports_cannot_be_rewritten(db):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.begin_nested():
            db.execute(text("UPDATE health_report_revision SET fever = 0"))


def test_a_report_that_breaks_the_rules_changes_nothing(db, session):
    enterprise_id, staff = enterprise(db, "GREEN")
    before = db.execute(text("SELECT count(*) FROM health_report_revision")).scalar_one()
    with pytest.raises(InconsistentCounts):
        health.record_health(
            session, enterprise_id, DAY, counts(on_site=staff + 1, checked=1), "town", AT
        )
    assert db.execute(text("SELECT count(*) FROM health_report_revision")).scalar_one() == before


def test_unknown_enterprise_and_future_day_are_refused(session):
    with pytest.raises(NotFound):
        health.record_health(session, 10**9, DAY, counts(), "town", AT)
    with pytest.raises(BadInput, match="future"):
        health.record_health(session, 1, date(2999, 1, 1), counts(), "town", AT)


def flag(db: Connection, enterprise_id: int) -> tuple[str, str]:
    row = db.execute(
        text("SELECT flag_color, flag_reason FROM enterprise WHERE id = :e"), {"e": enterprise_id}
    ).one()
    return row.flag_color, row.flag_reason


def test_fever_makes_a_green_flag_yellow_until_a_report_without_fever(db, session):
    enterprise_id, _ = enterprise(db, "GREEN")
    health.record_health(session, enterprise_id, DAY, counts(fever=2), "town", AT)
    color, reason = flag(db, enterprise_id)
    assert color == "YELLOW"
    assert reason.startswith("2 fever cases in the latest daily health report; fully back")
    health.record_health(session, enterprise_id, DAY, counts(fever=0), "town", AT)
    assert flag(db, enterprise_id)[0] == "GREEN"


def test_a_correction_of_an_older_day_leaves_the_flag_to_the_latest(db, session):
    enterprise_id, _ = enterprise(db, "GREEN")
    health.record_health(session, enterprise_id, DAY, counts(), "town", AT)
    health.record_health(session, enterprise_id, date(2020, 2, 26), counts(fever=1), "town", AT)
    assert flag(db, enterprise_id)[0] == "GREEN"


def test_a_red_flag_names_the_fever_and_stays_red(db, session):
    enterprise_id, _ = enterprise(db, "RED")
    health.record_health(session, enterprise_id, DAY, counts(fever=1), "town", AT)
    color, reason = flag(db, enterprise_id)
    assert color == "RED" and reason.startswith("1 fever case in the latest daily health report;")


def test_fever_puts_the_enterprise_on_the_next_days_route(db, session, zone_id):
    enterprise_id = db.execute(
        text(
            "SELECT e.id FROM enterprise e JOIN patrol_zone z ON ST_Intersects(e.geom, z.boundary)"
            " WHERE z.id = :z AND e.flag_color = 'GREEN' AND e.staff_total >= 10"
            " AND NOT e.has_dormitory ORDER BY e.id LIMIT 1"
        ),
        {"z": zone_id},
    ).scalar_one()
    # Inspected the day before: without fever it would not be due for a week.
    db.execute(
        text(
            "INSERT INTO inspection (enterprise_id, account_id, idempotency_key, at, geom,"
            " distance_m, findings) SELECT :e, (SELECT id FROM account WHERE username = 'inspector'),"
            " 'health-test', :at, geom, 0, '' FROM enterprise WHERE id = :e"
        ),
        {"e": enterprise_id, "at": datetime(2020, 2, 27, 3, tzinfo=UTC)},
    )
    next_day = date(2020, 2, 28)
    on_route = {t.id: t for t in due.due_targets(db, zone_id, next_day)}
    assert enterprise_id not in on_route
    health.record_health(session, enterprise_id, DAY, counts(fever=1), "town", AT)
    target = {t.id: t for t in due.due_targets(db, zone_id, next_day)}[enterprise_id]
    assert target.priority is due.Priority.URGENT and target.rank == 1
    assert target.reason == "1 fever case in yesterday's daily health report"


def test_quarantine_occupancy_is_kept_per_day_and_the_latest_is_the_sites(db, session):
    site_id, beds_total = db.execute(
        text("SELECT id, beds_total FROM quarantine_site ORDER BY id LIMIT 1")
    ).one()
    occupancy.record_occupancy(session, site_id, DAY, 3, "town", AT)
    occupancy.record_occupancy(session, site_id, date(2020, 2, 20), 5, "town", AT)
    rows = dict(
        db.execute(
            text(
                "SELECT day, beds_occupied FROM quarantine_occupancy"
                " WHERE quarantine_site_id = :s AND day IN ('2020-02-20', '2020-02-27')"
            ),
            {"s": site_id},
        ).all()
    )
    assert rows == {date(2020, 2, 20): 5, DAY: 3}
    stored = "SELECT beds_occupied FROM quarantine_site WHERE id = :s"
    assert db.execute(text(stored), {"s": site_id}).scalar_one() == 3
    with pytest.raises(InconsistentCounts, match=f"the site's {beds_total} beds"):
        occupancy.record_occupancy(session, site_id, DAY, beds_total + 1, "town", AT)
