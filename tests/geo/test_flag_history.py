"""The flag history of the seeded district: append-only, a consistent chain per target, and the
stored flag its last word; the story of February 2020 that it tells."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geo.flag_history import flag_history
from geo.flag_rules import assess
from geo.flag_writes import SHAPES, facts_of
from geo.targets import FLAGGED, Target, TargetKind

# Every target's changes in order, each with the change before it.
CHAIN = """
    SELECT enterprise_id, construction_site_id, from_color, to_color, reason, at, id, source,
           lag(to_color) OVER target AS previous_color,
           lag(reason) OVER target AS previous_reason,
           lag(at) OVER target AS previous_at
    FROM flag_change
    WINDOW target AS (PARTITION BY enterprise_id, construction_site_id ORDER BY at, id)
"""


def broken_links(db: Connection, where: str = "true") -> list[tuple[object, ...]]:
    """Changes whose from_color is not the previous change's to_color, that change nothing,
    or that go back in time; empty for a consistent history."""
    sql = f"""
        SELECT enterprise_id, construction_site_id, id FROM ({CHAIN}) c WHERE ({where}) AND (
            from_color IS DISTINCT FROM previous_color
            OR (to_color, reason) IS NOT DISTINCT FROM (previous_color, previous_reason)
            OR at < previous_at)
    """  # noqa: S608
    return [tuple(row) for row in db.execute(text(sql))]


def out_of_step(db: Connection, table: str, fk: str, where: str = "true") -> list[int]:
    """Targets whose stored flag is not their last change, whose `since` is not when their
    last colour began, whose last report precedes their last change by the rules, or that
    are overridden unless their last change was an override."""
    sql = f"""
        WITH chain AS ({CHAIN}),
        last AS (SELECT DISTINCT ON ({fk}) * FROM chain WHERE {fk} IS NOT NULL
                 ORDER BY {fk}, at DESC, id DESC),
        colour_began AS (
            SELECT DISTINCT ON ({fk}) {fk}, at FROM chain
            WHERE {fk} IS NOT NULL AND to_color IS DISTINCT FROM previous_color
            ORDER BY {fk}, at DESC, id DESC),
        last_ruled AS (
            SELECT {fk}, max(at) AS at FROM flag_change WHERE source = 'RULE' GROUP BY {fk})
        SELECT t.id FROM {table} t
        JOIN last ON last.{fk} = t.id JOIN colour_began b ON b.{fk} = t.id
        LEFT JOIN last_ruled r ON r.{fk} = t.id
        WHERE ({where}) AND ((t.flag_color, t.flag_reason) IS DISTINCT FROM (last.to_color, last.reason)
            OR t.flag_since <> b.at OR t.resumption_reported_at < r.at
            OR t.flag_overridden <> (last.source = 'OVERRIDE'))
    """  # noqa: S608
    return list(db.execute(text(sql)).scalars())


def test_every_seeded_history_is_a_consistent_chain(db: Connection) -> None:
    assert broken_links(db) == []
    firsts = db.execute(
        text("SELECT count(*), count(*) FILTER (WHERE at::date = '2020-02-03') FROM flag_change"
             " WHERE from_color IS NULL")
    ).one()  # fmt: skip
    targets = db.execute(
        text("SELECT (SELECT count(*) FROM enterprise) + (SELECT count(*) FROM construction_site)")
    ).scalar_one()
    assert firsts == (targets, targets), "every target starts red on the first working day"


@pytest.mark.parametrize("kind", FLAGGED)
def test_stored_flags_are_the_last_change_and_what_the_rules_say(
    db: Connection, kind: TargetKind
) -> None:
    shape = SHAPES[kind]
    assert out_of_step(db, shape.table.name, shape.history_fk) == []
    rows = db.execute(shape.table.select()).mappings().all()
    for row in rows:
        flag = assess(facts_of(shape, row))
        assert (row["flag_color"], row["flag_reason"]) == (flag.color, flag.reason), row["id"]
        assert not row["flag_overridden"]


def test_the_first_day_is_red_for_staff_not_back(db: Connection) -> None:
    reasons = db.execute(
        text("SELECT DISTINCT to_color, split_part(reason, ':', 1) FROM flag_change"
             " WHERE from_color IS NULL")
    ).all()  # fmt: skip
    assert set(reasons) == {("RED", "not back at work")}


def test_named_enterprises_tell_their_story(db: Connection) -> None:
    (cable_id,) = db.execute(text("SELECT id FROM enterprise WHERE name LIKE '%通宇电缆%'")).one()
    cable = Target(TargetKind.ENTERPRISE, cable_id)
    changes = flag_history(db, [cable])[cable]
    assert [c.to_color.value for c in changes] == ["RED", "YELLOW", "GREEN"]
    assert changes[-1].reason == "fully back: 298 of 320 staff, capacity 90%"
    assert changes[0].from_color is None and changes[0].actor == "rules"
    assert changes[0].at.isoformat().startswith("2020-02-03T") and changes[0].at.utcoffset()


def test_history_refuses_update_and_delete(db: Connection) -> None:
    for statement in (
        "UPDATE flag_change SET reason = 'rewritten' WHERE id = (SELECT min(id) FROM flag_change)",
        "DELETE FROM flag_change WHERE id = (SELECT min(id) FROM flag_change)",
        "UPDATE flag_change SET to_color = 'GREEN' WHERE false",  # refused even if it hits none
    ):
        savepoint = db.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        savepoint.rollback()
    assert (
        db.execute(text("SELECT count(*) FROM flag_change WHERE reason = 'rewritten'")).scalar()
        == 0
    )


def test_history_names_exactly_one_target(db: Connection) -> None:
    savepoint = db.begin_nested()
    with pytest.raises(DBAPIError, match="flag_change_one_target"):
        db.execute(
            text("INSERT INTO flag_change (enterprise_id, construction_site_id, to_color, reason,"
                 " at, actor, source) VALUES (1, 1, 'RED', 'x', now(), 'rules', 'RULE')")
        )  # fmt: skip
    savepoint.rollback()
