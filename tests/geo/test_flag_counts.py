"""Flag counts per area as of a day, checked against a naive recomputation from the history."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, event, text

from geo.days import today
from geo.errors import BadInput, NotFound
from geo.flag_counts import area_flag_counts, flag_counts
from geo.flag_writes import override
from geo.models import FlagColor
from geo.targets import Target, TargetKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
JINFENG = "350112109"
DAYS = [
    date(2020, 2, 3),
    date(2020, 2, 10),
    date(2020, 2, 17),
    date(2020, 2, 20),
    date(2020, 2, 27),
]

Counts = dict[str, tuple[int, int, int, int]]


class Naive:
    """The history and the area tree fetched whole; counts recomputed in Python."""

    def __init__(self, db: Connection) -> None:
        self.parent: dict[int, int | None] = dict(
            db.execute(text("SELECT id, parent_id FROM area")).all()
        )  # type: ignore[arg-type]
        self.code = dict(db.execute(text("SELECT id, code FROM area")).all())
        self.area_of = {
            (kind, target_id): area_id
            for kind, target_id, area_id in db.execute(
                text("SELECT 'e', id, area_id FROM enterprise"
                     " UNION ALL SELECT 's', id, area_id FROM construction_site")
            )
        }  # fmt: skip
        self.current = dict(
            ((kind, target_id), color)
            for kind, target_id, color in db.execute(
                text("SELECT 'e', id, flag_color::text FROM enterprise"
                     " UNION ALL SELECT 's', id, flag_color::text FROM construction_site")
            )
        )  # fmt: skip
        self.changes = db.execute(
            text("SELECT CASE WHEN enterprise_id IS NULL THEN 's' ELSE 'e' END,"
                 " coalesce(enterprise_id, construction_site_id), to_color::text, at, id"
                 " FROM flag_change")
        ).all()  # fmt: skip

    def colors_at_end_of(self, day: date | None) -> dict[tuple[str, int], str]:
        if day is None:
            return self.current
        midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1)
        last: dict[tuple[str, int], tuple[datetime, int, str]] = {}
        for kind, target_id, color, at, change_id in self.changes:
            key = (kind, target_id)
            if at < midnight and (key not in last or (at, change_id) > last[key][:2]):
                last[key] = (at, change_id, color)
        return {key: color for key, (_, _, color) in last.items()}

    def counts(self, parent_code: str, day: date | None) -> Counts:
        children = {
            a for a, p in self.parent.items() if p is not None and self.code[p] == parent_code
        }
        tally: dict[str, Counter[str]] = {self.code[c]: Counter() for c in children}
        for key, color in self.colors_at_end_of(day).items():
            area = self.area_of[key]
            while area is not None and area not in children:
                area = self.parent[area]
            if area is not None:
                tally[self.code[area]][color] += 1
        return {
            code: (c["GREEN"], c["YELLOW"], c["RED"], sum(c.values())) for code, c in tally.items()
        }


def counted(db: Connection, area_code: str | None, day: date | None) -> Counts:
    return {
        row.area["code"]: (row.green, row.yellow, row.red, row.total)
        for row in flag_counts(db, area_code, day)
    }


@pytest.fixture
def naive(db: Connection) -> Naive:
    return Naive(db)


@pytest.mark.parametrize("day", [*DAYS, None])
def test_counts_per_town_match_the_history(db: Connection, naive: Naive, day: date | None) -> None:
    assert counted(db, None, day) == naive.counts("350112", day)
    assert counted(db, "350112", day) == naive.counts("350112", day)


@pytest.mark.parametrize("day", [date(2020, 2, 10), date(2020, 2, 20), None])
def test_counts_per_village_match_the_history(
    db: Connection, naive: Naive, day: date | None
) -> None:
    villages = counted(db, JINFENG, day)
    assert len(villages) > 1
    assert villages == naive.counts(JINFENG, day)


def test_the_story_goes_from_red_towards_green(db: Connection) -> None:
    def district(day: date) -> tuple[int, int, int, int]:
        rows = flag_counts(db, None, day)
        return tuple(sum(r[i] for r in rows) for i in range(1, 5))  # type: ignore[return-value]

    green_10, yellow_10, red_10, total_10 = district(date(2020, 2, 10))
    green_27, yellow_27, red_27, total_27 = district(date(2020, 2, 27))
    assert total_10 == total_27 > 0
    assert red_10 > 0.8 * total_10, "on the 10th most are not back yet"
    assert green_27 > 0.3 * total_27 and green_27 > green_10 + 0.3 * total_27
    assert red_27 < 0.25 * total_27 and yellow_27 > yellow_10
    # The demo depicts the 27th: its history ends in the state stored today.
    assert counted(db, None, date(2020, 2, 27)) == counted(db, None, None)


def test_today_reads_the_stored_flags(db: Connection) -> None:
    assert counted(db, None, today()) == counted(db, None, None)
    db.execute(text("UPDATE enterprise SET flag_color = 'GREEN' WHERE flag_color = 'RED'"))
    assert (
        sum(red for _, _, red, _ in counted(db, None, None).values())
        == db.execute(
            text("SELECT count(*) FROM construction_site WHERE flag_color = 'RED'")
        ).scalar_one()
    )


def test_before_any_history_nothing_is_counted(db: Connection) -> None:
    rows = flag_counts(db, None, date(2020, 2, 2))
    assert len(rows) == 18
    assert {(r.green, r.yellow, r.red, r.total) for r in rows} == {(0, 0, 0, 0)}


def test_the_end_of_a_day_is_midnight_in_shanghai(db: Connection) -> None:
    """A change at 23:59 +08:00 counts on its day, one at 00:00 the next day does not."""
    enterprise_id, town_code = db.execute(
        text("SELECT e.id, t.code FROM enterprise e JOIN area a ON a.id = e.area_id"
             " JOIN area t ON t.id = coalesce(CASE WHEN a.level = 'VILLAGE' THEN a.parent_id END, a.id)"
             " WHERE e.flag_color = 'RED' ORDER BY e.id LIMIT 1")
    ).one()  # fmt: skip
    target = Target(TargetKind.ENTERPRISE, enterprise_id)
    before = counted(db, None, date(2020, 2, 28))[town_code]
    late = datetime(2020, 2, 28, 23, 59, 59, tzinfo=SHANGHAI)
    override(db, target, FlagColor.GREEN, "reopened late at night", "district", late)
    override(
        db,
        target,
        FlagColor.RED,
        "closed again at midnight",
        "district",
        late + timedelta(seconds=1),
    )
    green, yellow, red, total = counted(db, None, date(2020, 2, 28))[town_code]
    assert (green, red, total) == (before[0] + 1, before[2] - 1, before[3])
    assert counted(db, None, date(2020, 2, 29))[town_code] == before


def test_area_flag_counts_count_everything_inside_each_area(db: Connection, naive: Naive) -> None:
    ids = dict(
        db.execute(
            text("SELECT code, id FROM area WHERE code IN ('350112', :town)"), {"town": JINFENG}
        ).all()
    )
    day = date(2020, 2, 20)
    counts = area_flag_counts(db, [ids["350112"], ids[JINFENG], -1], day)
    towns = naive.counts("350112", day)
    assert counts[ids["350112"]] == tuple(map(sum, zip(*towns.values(), strict=True)))
    assert counts[ids[JINFENG]] == towns[JINFENG]
    assert counts[-1] == (0, 0, 0, 0)


def test_counts_of_one_kind(db: Connection) -> None:
    sites = flag_counts(db, None, None, kinds=[TargetKind.CONSTRUCTION_SITE])
    stored = db.execute(text("SELECT count(*) FROM construction_site")).scalar_one()
    assert sum(r.total for r in sites) == stored


def test_unknown_areas_future_days_and_childless_areas(db: Connection) -> None:
    with pytest.raises(NotFound):
        flag_counts(db, "999999", None)
    with pytest.raises(BadInput, match="future"):
        flag_counts(db, None, today() + timedelta(days=1))
    village = db.execute(text("SELECT code FROM area WHERE level = 'VILLAGE' LIMIT 1")).scalar_one()
    assert flag_counts(db, village, None) == []


def test_counts_are_one_statement(db: Connection) -> None:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db, "before_cursor_execute", record)
    try:
        for day in (None, date(2020, 2, 20)):
            flag_counts(db, None, day)
    finally:
        event.remove(db, "before_cursor_execute", record)
    assert len(statements) == 2


def test_a_moved_enterprise_takes_its_history_along(db: Connection) -> None:
    """Counts are by the area a target lies in now, on every day of its history."""
    elsewhere = db.execute(
        text("SELECT e.geom FROM enterprise e JOIN area a ON a.id = e.area_id"
             " WHERE a.code LIKE '350112%' AND a.code NOT LIKE :town || '%' LIMIT 1"),
        {"town": JINFENG},
    ).scalar_one()  # fmt: skip
    moved = db.execute(
        text("UPDATE enterprise SET geom = :g WHERE id IN (SELECT e.id FROM enterprise e"
             " JOIN area a ON a.id = e.area_id WHERE a.code LIKE :town || '%' LIMIT 5)"),
        {"g": elsewhere, "town": JINFENG},
    ).rowcount  # fmt: skip
    assert moved == 5
    naive = Naive(db)
    for day in (*DAYS, None):
        assert counted(db, None, day) == naive.counts("350112", day)


def test_history_written_in_bulk_and_back_dated_counts(db: Connection) -> None:
    """Raw SQL: several changes per target in one statement, one dated between old changes,
    and a new target with no history (counted by its stored flag today, not before)."""
    db.execute(
        text("""
        INSERT INTO flag_change (enterprise_id, from_color, to_color, reason, at, actor, source)
        SELECT id, NULL, c.color::flag_color, 'bulk', c.at, 'test', 'OVERRIDE'
        FROM (SELECT id FROM enterprise ORDER BY id LIMIT 40) e,
             (VALUES ('YELLOW', timestamptz '2020-02-12 10:00+08'),
                     ('GREEN', timestamptz '2020-02-18 23:59+08'),
                     ('RED', timestamptz '2020-02-19 00:00+08')) AS c(color, at)
        """)
    )  # fmt: skip
    db.execute(
        text("INSERT INTO enterprise (name, category, address, geom, staff_total, staff_returned,"
             " staff_out_of_province, hubei_staff_retained, resumption, problems, has_dormitory)"
             " SELECT 'new', category, address, geom, 1, 0, 0, 0, resumption, '{}', false"
             " FROM enterprise ORDER BY id DESC LIMIT 3")
    )  # fmt: skip
    naive = Naive(db)
    for day in (*DAYS, date(2020, 2, 12), date(2020, 2, 18), date(2020, 2, 19), None):
        assert counted(db, None, day) == naive.counts("350112", day)


def test_the_tallies_are_what_a_rebuild_makes_of_the_tables(db: Connection) -> None:
    for n, color in enumerate((FlagColor.GREEN, FlagColor.YELLOW, FlagColor.RED)):
        target = Target(TargetKind.ENTERPRISE, n + 1)
        override(db, target, color, "checked", "district", datetime.now(SHANGHAI))
    db.execute(text("DELETE FROM signboard WHERE enterprise_id = 1"))
    kept = tallies(db)
    # Writers fold their rows into one per group as they go.
    for query in (
        "SELECT count(*) = count(DISTINCT (kind, area_id, color)) FROM flag_tally",
        "SELECT count(*) = count(DISTINCT (kind, area_id, day, color)) FROM flag_tally_daily",
    ):
        assert db.execute(text(query)).scalar_one()
    db.execute(text("SELECT fugong_tally_rebuild()"))
    assert tallies(db) == kept


def tallies(db: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: [tuple(row) for row in db.execute(text(query))]
        for name, query in {
            "stored": "SELECT kind, area_id, color::text, sum(n) FROM flag_tally"
            " GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3",
            "daily": "SELECT kind, area_id, day, color::text, sum(n) FROM flag_tally_daily"
            " GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4",
        }.items()
    }
