"""Signboards (每日更新一面牌子): recorded daily; stale boards listed for any day."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, text

from geo.days import today
from geo.errors import BadInput, NotFound
from geo.models import Role
from geo.scope import Caller
from geo.signboards import record_signboard, stale_signboards
from tests.geo.test_flag_counts import Naive

JINFENG = "350112109"
RANGE = re.compile(r"\[(\d{4}-\d\d-\d\d),(\d{4}-\d\d-\d\d)\)")


def board_days(db: Connection, enterprise_id: int) -> str:
    return db.execute(
        text("SELECT days::text FROM signboard WHERE enterprise_id = :id"), {"id": enterprise_id}
    ).scalar_one()


def naive_stale(db: Connection, area_code: str, day: date) -> list[int]:
    """Recomputed in Python: the area subtree, each flag at the end of the day, the ranges."""
    naive = Naive(db)
    codes = {code: area_id for area_id, code in naive.code.items()}
    inside = {codes[area_code]}
    while grown := {a for a, p in naive.parent.items() if p in inside} - inside:
        inside |= grown
    updated: dict[int, list[tuple[date, date]]] = {}
    for enterprise_id, days in db.execute(text("SELECT enterprise_id, days::text FROM signboard")):
        updated[enterprise_id] = [
            (date.fromisoformat(a), date.fromisoformat(b)) for a, b in RANGE.findall(days)
        ]
    colors = naive.colors_at_end_of(day)
    return sorted(
        target_id
        for (kind, target_id), color in colors.items()
        if kind == "e"
        and naive.area_of[(kind, target_id)] in inside
        and color in ("GREEN", "YELLOW")
        and not any(a <= day < b for a, b in updated.get(target_id, []))
    )


@pytest.mark.parametrize("day", [date(2020, 2, 12), date(2020, 2, 20), date(2020, 2, 27)])
def test_stale_boards_match_a_naive_recomputation(db: Connection, day: date) -> None:
    stale = stale_signboards(db, JINFENG, day)
    assert [row["id"] for row in stale] == naive_stale(db, JINFENG, day)
    assert all(row["day_color"].value in ("GREEN", "YELLOW") for row in stale)


def test_a_board_that_stopped_being_updated_goes_stale(db: Connection) -> None:
    (aiweier,) = db.execute(text("SELECT id FROM enterprise WHERE name LIKE '%艾维尔%'")).one()
    district = "350112"
    on = {row["id"]: row for row in stale_signboards(db, district, date(2020, 2, 18))}
    after = {row["id"]: row for row in stale_signboards(db, district, date(2020, 2, 20))}
    assert aiweier not in on
    assert after[aiweier]["last_updated_on"] == date(2020, 2, 18)
    assert after[aiweier]["name"] == "福建艾维尔科技有限公司"


def test_recording_a_board_merges_consecutive_days_and_is_idempotent(db: Connection) -> None:
    enterprise_id = db.execute(
        text("SELECT id FROM enterprise WHERE flag_color <> 'RED' ORDER BY id LIMIT 1")
    ).scalar_one()
    day = today()
    assert enterprise_id in {r["id"] for r in stale_signboards(db, None, day)}
    for recorded in (day - timedelta(days=2), day, day, day - timedelta(days=1)):
        record_signboard(db, enterprise_id, recorded)
    assert enterprise_id not in {r["id"] for r in stale_signboards(db, None, day)}
    assert board_days(db, enterprise_id).endswith(
        f"[{(day - timedelta(days=2)).isoformat()},{(day + timedelta(days=1)).isoformat()})}}"
    )
    stored = db.execute(
        text("SELECT signboard_updated_on FROM enterprise WHERE id = :id"), {"id": enterprise_id}
    ).scalar_one()
    assert stored == day


def test_an_enterprise_not_back_at_work_is_never_stale(db: Connection) -> None:
    red = set(db.execute(text("SELECT id FROM enterprise WHERE flag_color = 'RED'")).scalars())
    assert red and not red & {r["id"] for r in stale_signboards(db, None, None)}


def test_scope_and_paging_narrow_the_list(db: Connection) -> None:
    day = date(2020, 2, 27)
    everyone = [r["id"] for r in stale_signboards(db, None, day)]
    first = stale_signboards(db, None, day, first=5)
    rest = stale_signboards(db, None, day, after_id=first[-1]["id"])
    assert [r["id"] for r in first] + [r["id"] for r in rest] == everyone
    # A town officer sees every board (they are public); their own town's rows say so.
    town = db.execute(text(
        "SELECT id, town_id FROM account WHERE username = 'town'"
    )).one()  # fmt: skip
    jinfeng = set(db.execute(text(
        "SELECT e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE a.id = :town OR a.parent_id = :town"
    ), {"town": town.town_id}).scalars())  # fmt: skip
    caller = Caller(town.id, "town", Role.TOWN_OFFICER, town.town_id)
    scoped = stale_signboards(db, None, day, caller=caller)
    assert [r["id"] for r in scoped] == everyone
    assert {r["id"] for r in scoped if r["own"]} == jinfeng & set(everyone) != set()


def test_bad_requests(db: Connection) -> None:
    with pytest.raises(NotFound):
        record_signboard(db, 10**9, today())
    with pytest.raises(BadInput, match="future"):
        record_signboard(db, 1, today() + timedelta(days=1))
    with pytest.raises(NotFound):
        stale_signboards(db, "999999", None)
    with pytest.raises(BadInput, match="future"):
        stale_signboards(db, None, today() + timedelta(days=1))


def test_a_first_board_is_recorded(db: Connection) -> None:
    enterprise_id = db.execute(
        text("SELECT id FROM enterprise e WHERE NOT EXISTS"
             " (SELECT FROM signboard s WHERE s.enterprise_id = e.id) ORDER BY id LIMIT 1")
    ).scalar_one()  # fmt: skip
    record_signboard(db, enterprise_id, date(2020, 2, 27))
    assert board_days(db, enterprise_id) == "{[2020-02-27,2020-02-28)}"
