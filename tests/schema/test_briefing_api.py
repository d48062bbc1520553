"""dailyBriefing, reportHealth and the ENTERPRISE account through GraphQL; the briefing's
numbers against an independent SQL computation over the seeded day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo import due
from geo import flag_writes as flags
from geo.models import FlagColor
from geo.targets import Target, TargetKind

DAY = date(2020, 2, 26)
SHANGHAI = ZoneInfo("Asia/Shanghai")
BRIEFING = """query ($code: String!, $date: Date) { dailyBriefing(areaCode: $code, date: $date) {
  date
  area { ...day }
  children { ...day }
} }
fragment day on AreaBriefing {
  area { code name }
  flagCounts { green yellow red total }
  previousFlagCounts { green yellow red total }
  newReds { reason target { ... on Enterprise { id name } ... on ConstructionSite { id name } } }
  redsTurnedGreen staleSignboards
  health { expected reported fever isolated outOfProvince missing { id } }
  inspections { due visited }
  quarantine { sites bedsTotal bedsOccupied }
}"""
REPORT = """mutation ($id: ID!, $input: HealthReportInput!) {
  reportHealth(enterpriseId: $id, date: "2020-02-27", input: $input) { revision fever }
}"""
ZERO = {"onSite": 0, "checked": 0, "fever": 0, "isolated": 0, "outOfProvince": 0}

# Independent of geo/: each town's subtree, each target's last change before a time.
TREE = """WITH RECURSIVE tree AS (
    SELECT id, id AS root FROM area WHERE parent_id = (SELECT id FROM area WHERE code = '350112')
    UNION ALL SELECT a.id, tree.root FROM area a JOIN tree ON a.parent_id = tree.id)"""
LAST_COLOR = """(SELECT f.to_color::text FROM flag_change f WHERE f.{fk} = t.id AND f.at < :end
                 ORDER BY f.at DESC, f.id DESC LIMIT 1)"""


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def by_town(db: Connection, sql: str, **params) -> dict[str, tuple]:
    rows = db.execute(text(TREE + sql), params).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def expected_flags(db: Connection, day: date) -> dict[str, tuple]:
    targets = " UNION ALL ".join(
        f"SELECT t.area_id, {LAST_COLOR.format(fk=fk)} AS color FROM {table} t"  # noqa: S608
        for table, fk in (
            ("enterprise", "enterprise_id"),
            ("construction_site", "construction_site_id"),
        )
    )
    return by_town(
        db,
        f""", targets AS ({targets})
        SELECT a.code, count(*) FILTER (WHERE color = 'GREEN'), count(*) FILTER (WHERE color = 'YELLOW'),
               count(*) FILTER (WHERE color = 'RED'), count(color)
        FROM targets JOIN tree ON tree.id = targets.area_id JOIN area a ON a.id = tree.root
        GROUP BY a.code""",  # noqa: S608
        end=end_of(day),
    )


def expected_health(db: Connection, day: date) -> dict[str, tuple]:
    return by_town(
        db,
        f""", e AS (SELECT t.id, t.area_id, {LAST_COLOR.format(fk="enterprise_id")} AS color FROM enterprise t)
        SELECT a.code,
               count(*) FILTER (WHERE e.color IN ('GREEN', 'YELLOW')),
               count(h.day) FILTER (WHERE e.color IN ('GREEN', 'YELLOW')),
               coalesce(sum(h.fever), 0), coalesce(sum(h.isolated), 0)
        FROM e JOIN tree ON tree.id = e.area_id JOIN area a ON a.id = tree.root
        LEFT JOIN health_report h ON h.enterprise_id = e.id AND h.day = :day
        GROUP BY a.code""",  # noqa: S608
        end=end_of(day),
        day=day,
    )


def expected_beds(db: Connection, day: date) -> dict[str, tuple]:
    return by_town(
        db,
        """ SELECT a.code, count(*), sum(q.beds_total),
               sum(coalesce((SELECT beds_occupied FROM quarantine_occupancy o
                             WHERE o.quarantine_site_id = q.id AND o.day <= :day
                             ORDER BY o.day DESC LIMIT 1), 0))
        FROM quarantine_site q JOIN tree ON tree.id = q.area_id JOIN area a ON a.id = tree.root
        GROUP BY a.code""",
        day=day,
    )


def expected_stale(db: Connection, day: date) -> dict[str, tuple]:
    return by_town(
        db,
        f""" SELECT a.code, count(*) FROM enterprise t
        JOIN tree ON tree.id = t.area_id JOIN area a ON a.id = tree.root
        WHERE {LAST_COLOR.format(fk="enterprise_id")} IN ('GREEN', 'YELLOW')
          AND NOT EXISTS (SELECT FROM signboard s WHERE s.enterprise_id = t.id AND s.days @> :day)
        GROUP BY a.code""",  # noqa: S608
        end=end_of(day),
        day=day,
    )


@pytest.fixture
def turned_red(db: Connection) -> tuple[int, str]:
    """An enterprise that flew green or yellow the day before and turns red on DAY, by hand."""
    enterprise_id = db.execute(
        text(
            "SELECT t.id FROM enterprise t WHERE t.area_id IS NOT NULL AND"
            " (SELECT max(at) FROM flag_change WHERE enterprise_id = t.id) < :start"
            " AND t.flag_color = 'GREEN' ORDER BY t.id LIMIT 1"
        ),
        {"start": end_of(date(2020, 2, 25))},
    ).scalar_one()
    reason = "复查发现未落实防疫措施"
    with Session(bind=db, join_transaction_mode="create_savepoint") as session:
        at = datetime.combine(DAY, time(10), SHANGHAI)
        target = Target(TargetKind.ENTERPRISE, enterprise_id)
        flags.override(session, target, FlagColor.RED, reason, "district", at)
        session.commit()
    return enterprise_id, reason


def test_the_briefing_equals_an_independent_computation(db, gql, turned_red):
    body = gql.data(BRIEFING, code="350112", date=DAY.isoformat())["dailyBriefing"]
    children = {child["area"]["code"]: child for child in body["children"]}
    flags_now, flags_before = expected_flags(db, DAY), expected_flags(db, date(2020, 2, 25))
    health, beds, stale = expected_health(db, DAY), expected_beds(db, DAY), expected_stale(db, DAY)
    assert len(children) == 18
    for code, child in children.items():
        assert tuple(child["flagCounts"].values()) == flags_now.get(code, (0, 0, 0, 0)), code
        assert tuple(child["previousFlagCounts"].values()) == flags_before.get(code, (0, 0, 0, 0))
        found = child["health"]
        assert (found["expected"], found["reported"], found["fever"], found["isolated"]) == health[
            code
        ]
        assert len(found["missing"]) == found["expected"] - found["reported"]
        quarantine = child["quarantine"]
        assert tuple(quarantine.values()) == beds.get(code, (0, 0, 0)), code
        assert child["staleSignboards"] == stale.get(code, (0,))[0], code
    district = body["area"]
    assert district["flagCounts"]["total"] == sum(c[3] for c in flags_now.values())
    assert district["health"]["reported"] == sum(c[1] for c in health.values())
    assert district["health"]["fever"] == sum(c[2] for c in health.values()) > 0
    enterprise_id, reason = turned_red
    name = db.execute(text("SELECT name FROM enterprise WHERE id = :e"), {"e": enterprise_id})
    red = {"reason": reason, "target": {"id": f"Enterprise:{enterprise_id}", "name": name.scalar()}}
    assert red in district["newReds"]
    assert sum(red in child["newReds"] for child in children.values()) == 1


def test_inspections_are_the_rounds_of_each_towns_zones_by_the_due_rules(db, gql):
    """Each town's `inspections` against geo.due's rules run in Python zone by zone (the
    briefing counts them in SQL, for every zone in one statement)."""
    body = gql.data(BRIEFING, code="350112", date=DAY.isoformat())["dailyBriefing"]
    expected: dict[str, dict[str, int]] = {}
    for zone, town in db.execute(text(
        TREE + " SELECT z.id, a.code FROM patrol_zone z JOIN tree ON tree.id = z.area_id"  # noqa: S608
        " JOIN area a ON a.id = tree.root"
    )):  # fmt: skip
        still_due, visited = due.sort_out(due.candidates(db, zone, DAY), DAY)
        counts = expected.setdefault(town, {"due": 0, "visited": 0})
        counts["due"] += len(still_due) + len(visited)
        counts["visited"] += len(visited)
    got = {child["area"]["code"]: child["inspections"] for child in body["children"]}
    assert got == {code: expected.get(code, {"due": 0, "visited": 0}) for code in got}
    assert sum(counts["visited"] for counts in expected.values()), "a day with visits"
    district = body["area"]["inspections"]
    assert district["due"] >= sum(counts["due"] for counts in expected.values())


def test_anonymous_callers_get_the_public_parts_only(anonymous):
    body = anonymous.data(BRIEFING, code="350112", date=DAY.isoformat())["dailyBriefing"]
    for day in [body["area"], *body["children"]]:
        assert day["flagCounts"]["total"] > 0
        assert (day["health"], day["inspections"], day["quarantine"]) == (None, None, None)


def test_a_town_officer_gets_the_rest_for_their_town_only(as_user):
    body = as_user("town").data(BRIEFING, code="350112", date=DAY.isoformat())["dailyBriefing"]
    assert body["area"]["health"] is None
    restricted = {c["area"]["name"] for c in body["children"] if c["health"] is not None}
    assert restricted == {"金峰镇"}
    own = as_user("town").data(BRIEFING, code="350112109", date=DAY.isoformat())["dailyBriefing"]
    assert own["area"]["inspections"]["due"] >= own["area"]["inspections"]["visited"]
    assert all(child["quarantine"] is not None for child in own["children"])


@pytest.mark.parametrize(
    ("code", "day", "error"),
    [("999", "2020-02-26", "NOT_FOUND"), ("350112", "2999-01-01", "BAD_USER_INPUT")],
)
def test_a_bad_area_or_day_is_a_coded_error(anonymous, code, day, error):
    assert anonymous.error(BRIEFING, code=code, date=day)["extensions"]["code"] == error


def own_enterprise(db: Connection) -> tuple[int, int, bool]:
    return db.execute(  # type: ignore[return-value]
        text(
            "SELECT e.id, e.staff_total, e.has_dormitory FROM account a"
            " JOIN enterprise e ON e.id = a.enterprise_id WHERE a.username = 'enterprise'"
        )
    ).one()


def test_an_enterprise_reports_for_itself_and_no_other(db, as_user):
    own, staff, dormitory = own_enterprise(db)
    client = as_user("enterprise")
    counts = {**ZERO, "onSite": staff, "checked": staff, "fever": 1}
    if dormitory:
        counts["dormitoryDisinfected"] = True
    reported = client.data(REPORT, id=f"Enterprise:{own}", input=counts)["reportHealth"]
    assert reported["fever"] == 1 and reported["revision"] >= 1
    other = db.execute(
        text(
            "SELECT id FROM enterprise WHERE id <> :own AND NOT has_dormitory ORDER BY id LIMIT 1"
        ),
        {"own": own},
    ).scalar_one()
    written = "SELECT count(*) FROM health_report_revision WHERE enterprise_id = :e"
    before = db.execute(text(written), {"e": other}).scalar_one()
    error = client.error(REPORT, id=f"Enterprise:{other}", input=ZERO)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert db.execute(text(written), {"e": other}).scalar_one() == before
    history = (
        """query ($id: ID!) { healthReports(enterpriseId: $id, date: "2020-02-27") { revision } }"""
    )
    assert client.data(history, id=f"Enterprise:{own}")["healthReports"]
    assert client.error(history, id=f"Enterprise:{other}")["extensions"]["code"] == "FORBIDDEN"


def test_an_enterprise_account_reads_nothing_personal(db, as_user):
    own, _, _ = own_enterprise(db)
    client = as_user("enterprise")
    node = client.data(
        f'{{ node(id: "Enterprise:{own}") {{ ... on Enterprise {{ name contactPhone }} }} }}'
    )["node"]
    assert node["name"] and node["contactPhone"] is None
    assert client.data("{ rentalProperties { totalCount } }")["rentalProperties"]["totalCount"] == 0
    assert client.data("{ quarantineSites { id } }")["quarantineSites"] == []
    body = client.data(BRIEFING, code="350112", date=DAY.isoformat())["dailyBriefing"]
    assert all(day["health"] is None for day in [body["area"], *body["children"]])
    assert db.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0


@pytest.mark.parametrize(
    ("changed", "code", "words"),
    [
        (
            {"fever": 3, "checked": 2, "onSite": 2},
            "INCONSISTENT_COUNTS",
            "fever (3) cannot exceed checked (2)",
        ),
        ({"onSite": 10**5, "checked": 1}, "INCONSISTENT_COUNTS", "cannot exceed staffTotal"),
        ({"isolated": -1}, "INCONSISTENT_COUNTS", "isolated must be between 0"),
    ],
)
def test_counts_that_break_the_rules_are_coded_errors(db, gql, changed, code, words):
    target = db.execute(
        text("SELECT id FROM enterprise WHERE NOT has_dormitory ORDER BY id LIMIT 1")
    ).scalar_one()
    error = gql.error(REPORT, id=f"Enterprise:{target}", input={**ZERO, **changed})
    assert error["extensions"]["code"] == code
    assert words in error["message"]


def test_officers_record_quarantine_occupancy_and_inspectors_may_not(db, gql, as_user):
    site = db.execute(text("SELECT id FROM quarantine_site ORDER BY id LIMIT 1")).scalar_one()
    mutation = """mutation ($id: ID!, $n: Int!) {
      recordQuarantineOccupancy(siteId: $id, bedsOccupied: $n, date: "2020-02-27") }"""
    assert gql.data(mutation, id=f"QuarantineSite:{site}", n=4)["recordQuarantineOccupancy"]
    error = as_user("inspector").error(mutation, id=f"QuarantineSite:{site}", n=5)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert gql.error(mutation, id=f"QuarantineSite:{site}", n=10**6)["extensions"]["code"] == (
        "INCONSISTENT_COUNTS"
    )
