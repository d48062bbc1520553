"""Status reports and flags set by hand, as an officer sees them: the flag, its reason and one
history row per change, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select, text

from geo.errors import BadInput, Forbidden, NotFound, Unauthenticated
from geo.flag_history import flag_history
from geo.flag_rules import ResumptionReport
from geo.flag_writes import (
    HISTORY,
    SHAPES,
    apply_report,
    clear_override,
    clear_override_by,
    override,
    override_by,
    report_by,
)
from geo.models import FlagColor, FlagSource, ResumptionStatus, Role
from geo.scope import ANONYMOUS, Caller
from geo.signboards import confirm_signboard
from geo.targets import Target, TargetKind
from tests.geo.test_flag_history import broken_links, out_of_step

NOW = datetime.now(ZoneInfo("Asia/Shanghai"))
FULL, PARTIAL = ResumptionStatus.FULL, ResumptionStatus.PARTIAL


def history_rows(db: Connection, target: Target) -> int:
    fk = HISTORY.c[SHAPES[target.kind].history_fk]
    return db.execute(select(func.count()).where(fk == target.id)).scalar_one()


def consistent(db: Connection, target: Target) -> None:
    shape = SHAPES[target.kind]
    assert broken_links(db, f"{shape.history_fk} = {target.id}") == []
    assert out_of_step(db, shape.table.name, shape.history_fk, f"t.id = {target.id}") == []


@pytest.fixture
def yellow_with_one_problem(db: Connection) -> Target:
    """A fully resumed enterprise whose only shortfall is one open problem."""
    (enterprise_id,) = db.execute(
        text("SELECT id FROM enterprise WHERE resumption = 'FULL' AND cardinality(problems) = 1"
             " AND flag_color = 'YELLOW' AND staff_returned * 100 >= 80 * staff_total"
             " AND capacity_pct >= 70 ORDER BY id LIMIT 1")
    ).one()  # fmt: skip
    return Target(TargetKind.ENTERPRISE, enterprise_id)


def test_fixing_the_last_open_problem_turns_a_yellow_enterprise_green(
    db: Connection, yellow_with_one_problem: Target
) -> None:
    target = yellow_with_one_problem
    rows_before = history_rows(db, target)
    update = apply_report(db, target, ResumptionReport(FULL, problems=[]), "town", NOW)
    assert update.state.color is FlagColor.GREEN and not update.state.overridden
    assert update.state.reason.startswith("fully back: ")
    assert update.state.since == NOW
    change = update.change
    assert change is not None
    assert (change.from_color, change.to_color, change.actor, change.source) == (
        FlagColor.YELLOW, FlagColor.GREEN, "town", FlagSource.RULE,
    )  # fmt: skip
    assert history_rows(db, target) == rows_before + 1
    stored = db.execute(
        text("SELECT flag_color, flag_reason, problems, resumption_reported_at FROM enterprise"
             " WHERE id = :id"), {"id": target.id}
    ).one()  # fmt: skip
    assert stored == ("GREEN", update.state.reason, [], NOW)
    consistent(db, target)


def test_a_report_that_changes_nothing_appends_nothing(
    db: Connection, yellow_with_one_problem: Target
) -> None:
    target = yellow_with_one_problem
    before = db.execute(
        text("SELECT flag_since, problems FROM enterprise WHERE id = :id"), {"id": target.id}
    ).one()
    rows = history_rows(db, target)
    update = apply_report(db, target, ResumptionReport(FULL, problems=before[1]), "town", NOW)
    assert update.change is None and update.state.since == before[0]
    assert history_rows(db, target) == rows
    # The same colour with a new reason is a change, and keeps its since.
    update = apply_report(db, target, ResumptionReport(FULL, problems=["订单不足"]), "town", NOW)
    assert update.change is not None and update.change.from_color is update.change.to_color
    assert update.state.since == before[0] and "订单不足" in update.state.reason
    assert history_rows(db, target) == rows + 1
    consistent(db, target)


def test_override_stays_for_the_same_facts_and_ends_when_they_change(
    db: Connection, yellow_with_one_problem: Target
) -> None:
    target = yellow_with_one_problem
    problems = db.execute(
        text("SELECT problems FROM enterprise WHERE id = :id"), {"id": target.id}
    ).scalar_one()
    set_by_hand = override(
        db, target, FlagColor.GREEN, "  problem solved by the town  ", "district", NOW
    )
    assert set_by_hand.state == set_by_hand.state.__class__(
        FlagColor.GREEN, "problem solved by the town", NOW, True
    )
    assert set_by_hand.change is not None and set_by_hand.change.source is FlagSource.OVERRIDE

    # A report repeating the facts (problems in any order) leaves the override standing.
    later = NOW + timedelta(minutes=5)
    same = apply_report(
        db, target, ResumptionReport(FULL, problems=list(reversed(problems))), "inspector", later
    )
    assert same.change is None and same.state.overridden and same.state.color is FlagColor.GREEN
    # A report that changes a fact ends it: the rules decide again.
    changed = apply_report(db, target, ResumptionReport(PARTIAL), "inspector", later)
    assert not changed.state.overridden and changed.state.color is FlagColor.YELLOW
    assert changed.change is not None and changed.change.source is FlagSource.RULE
    assert [c.source for c in flag_history(db, [target])[target]][-2:] == [
        FlagSource.OVERRIDE, FlagSource.RULE,
    ]  # fmt: skip
    consistent(db, target)


def test_clearing_an_override_gives_the_flag_back_to_the_rules(
    db: Connection, yellow_with_one_problem: Target
) -> None:
    target = yellow_with_one_problem
    reason = db.execute(
        text("SELECT flag_reason FROM enterprise WHERE id = :id"), {"id": target.id}
    ).scalar_one()
    assert clear_override(db, target, "district", NOW).change is None  # not overridden: no-op
    override(db, target, FlagColor.RED, "closed by order after an inspection", "district", NOW)
    cleared = clear_override(db, target, "district", NOW + timedelta(minutes=1))
    assert (cleared.state.color, cleared.state.reason, cleared.state.overridden) == (
        FlagColor.YELLOW, reason, False,
    )  # fmt: skip
    assert cleared.change is not None and cleared.change.source is FlagSource.OVERRIDE_CLEARED
    assert cleared.change.from_color is FlagColor.RED
    consistent(db, target)


def test_override_needs_a_reason(db: Connection, yellow_with_one_problem: Target) -> None:
    for reason, message in (("   ", "needs a reason"), ("长" * 501, "at most 500")):
        with pytest.raises(BadInput, match=message):
            override(db, yellow_with_one_problem, FlagColor.RED, reason, "district", NOW)


def test_a_site_reports_its_workers_and_problems(db: Connection) -> None:
    (site_id,) = db.execute(
        text("SELECT id FROM construction_site WHERE workers_total >= 10 ORDER BY id LIMIT 1")
    ).one()
    target = Target(TargetKind.CONSTRUCTION_SITE, site_id)
    update = apply_report(
        db, target, ResumptionReport(FULL, returned=0, problems=["运输受阻"]), "town", NOW
    )
    assert update.state.color is FlagColor.YELLOW
    assert update.state.reason.startswith("1 open problem: 运输受阻; 100% of workers not returned")
    stored = db.execute(
        text("SELECT workers_returned, problems FROM construction_site WHERE id = :id"),
        {"id": site_id},
    ).one()
    assert stored == (0, ["运输受阻"])
    consistent(db, target)


def test_bad_reports_change_nothing(db: Connection, yellow_with_one_problem: Target) -> None:
    target = yellow_with_one_problem
    rows = history_rows(db, target)
    with pytest.raises(BadInput):
        apply_report(db, target, ResumptionReport(FULL, returned=10**6), "town", NOW)
    with pytest.raises(BadInput, match="offset"):
        apply_report(db, target, ResumptionReport(FULL), "town", NOW.replace(tzinfo=None))
    with pytest.raises(NotFound):
        apply_report(db, Target(TargetKind.ENTERPRISE, 10**9), ResumptionReport(FULL), "town", NOW)
    with pytest.raises(NotFound):
        override(db, Target(TargetKind.CONSTRUCTION_SITE, 10**9), FlagColor.RED, "x", "town", NOW)
    assert history_rows(db, target) == rows


def test_a_report_dated_before_the_last_change_keeps_the_history_in_order(
    db: Connection, yellow_with_one_problem: Target
) -> None:
    target = yellow_with_one_problem
    apply_report(db, target, ResumptionReport(FULL, problems=[]), "town", NOW)
    late = apply_report(db, target, ResumptionReport(PARTIAL), "inspector", NOW - timedelta(days=3))
    assert late.change is not None and late.change.at == NOW
    consistent(db, target)


def test_the_writers_for_a_caller_check_its_scope_themselves(
    db: Connection, yellow_with_one_problem: Target
):
    """Every door calls report_by / override_by / clear_override_by / confirm_signboard, which
    refuse a change outside the caller's scope in geo, before anything is written."""
    target = yellow_with_one_problem
    home, elsewhere = db.execute(
        text("SELECT e.area_id, (SELECT id FROM area WHERE level = 'TOWN' AND NOT"
             " ST_Intersects(boundary, e.geom) ORDER BY id LIMIT 1)"
             " FROM enterprise e WHERE e.id = :id"),
        {"id": target.id},
    ).one()  # fmt: skip
    town_of = db.execute(
        text("SELECT parent_id FROM area WHERE id = :id AND level = 'VILLAGE'"
             " UNION ALL SELECT :id FROM area WHERE id = :id AND level = 'TOWN'"),
        {"id": home},
    ).scalar_one()  # fmt: skip
    outsider = Caller(1, "town-elsewhere", Role.TOWN_OFFICER, elsewhere)
    inspector = Caller(2, "inspector", Role.INSPECTOR)
    before = history_rows(db, target)
    for refused, caller in ((Forbidden, outsider), (Forbidden, inspector)):
        with pytest.raises(refused):
            report_by(db, caller, target, ResumptionReport(FULL, problems=[]), NOW)
        with pytest.raises(refused):
            override_by(db, caller, target, FlagColor.RED, "closed", NOW)
        with pytest.raises(refused):
            clear_override_by(db, caller, target, NOW)
        with pytest.raises(refused):
            confirm_signboard(db, caller, target.id, NOW.date())
    with pytest.raises(Unauthenticated):
        override_by(db, ANONYMOUS, target, FlagColor.RED, "closed", NOW)
    assert history_rows(db, target) == before
    insider = Caller(3, "town", Role.TOWN_OFFICER, town_of)
    update = report_by(db, insider, target, ResumptionReport(FULL, problems=[]), NOW)
    assert update.change is not None and update.change.actor == "town"
