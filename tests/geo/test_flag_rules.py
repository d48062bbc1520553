"""The flag rules as an officer reads them: each colour, each threshold edge, and the reason."""

from __future__ import annotations

import math

import pytest

from geo.errors import BadInput
from geo.flag_rules import (
    DEFAULT_THRESHOLDS,
    Facts,
    ResumptionReport,
    Thresholds,
    assess,
    reported,
    same_facts,
)
from geo.models import FlagColor, ResumptionStatus

NOT_RESUMED, PARTIAL, FULL = ResumptionStatus


def facts(
    status: ResumptionStatus = FULL,
    total: int = 120,
    returned: int = 118,
    capacity_pct: float | None = 95.0,
    problems: tuple[str, ...] = (),
    people: str = "staff",
) -> Facts:
    return Facts(status, total, returned, capacity_pct, problems, people)


@pytest.mark.parametrize(
    ("case", "expected_color", "expected_reason"),
    [
        (facts(), "GREEN", "fully back: 118 of 120 staff, capacity 95%"),
        (
            facts(NOT_RESUMED, returned=0, capacity_pct=0.0),
            "RED",
            "not back at work: 0 of 120 staff returned",
        ),
        (
            facts(NOT_RESUMED, returned=3, problems=("员工未返岗",)),
            "RED",
            "not back at work: 3 of 120 staff returned; 1 open problem: 员工未返岗",
        ),
        (
            facts(PARTIAL, returned=72, capacity_pct=62.5, problems=("原材料短缺", "物流不畅")),
            "YELLOW",
            "partly back at work: 72 of 120 staff returned, capacity 62.5%;"
            " 2 open problems: 原材料短缺, 物流不畅",
        ),
        # Partly back is yellow whatever the figures say.
        (facts(PARTIAL, returned=120, capacity_pct=100.0), "YELLOW", None),
        (
            facts(returned=72, problems=("原材料短缺", "物流不畅")),
            "YELLOW",
            "2 open problems: 原材料短缺, 物流不畅; 40% of staff not returned (48 of 120)",
        ),
        (facts(problems=("订单不足",)), "YELLOW", "1 open problem: 订单不足"),
        (facts(capacity_pct=60.0), "YELLOW", "capacity 60%, below 70%"),
        (
            facts(people="workers", capacity_pct=None, returned=60, total=60),
            "GREEN",
            "fully back: 60 of 60 workers",
        ),
        (facts(total=0, returned=0), "GREEN", "fully back: no staff on record, capacity 95%"),
    ],
)
def test_each_colour_and_its_reason(
    case: Facts, expected_color: str, expected_reason: str | None
) -> None:
    flag = assess(case)
    assert flag.color is FlagColor(expected_color)
    if expected_reason is not None:
        assert flag.reason == expected_reason


@pytest.mark.parametrize(
    ("returned", "color"),
    [(96, "GREEN"), (95, "YELLOW"), (120, "GREEN")],  # 96 of 120 is exactly 80%
)
def test_staff_threshold_is_met_exactly_at_it(returned: int, color: str) -> None:
    flag = assess(facts(returned=returned))
    assert flag.color is FlagColor(color)
    if color == "YELLOW":
        assert flag.reason == "20.8% of staff not returned (25 of 120)"


@pytest.mark.parametrize(("capacity", "color"), [(70.0, "GREEN"), (69.9, "YELLOW")])
def test_capacity_threshold_is_met_exactly_at_it(capacity: float, color: str) -> None:
    flag = assess(facts(capacity_pct=capacity))
    assert flag.color is FlagColor(color)
    assert f"capacity {capacity:g}%" in flag.reason


def test_a_building_site_has_no_capacity_to_fall_short_of() -> None:
    site = facts(people="workers", capacity_pct=None, total=50, returned=40)  # exactly 80%
    assert assess(site).color is FlagColor.GREEN
    short = assess(facts(people="workers", capacity_pct=None, total=50, returned=39))
    assert (short.color, short.reason) == (
        FlagColor.YELLOW,
        "22% of workers not returned (11 of 50)",
    )


def test_thresholds_are_one_configuration_that_settings_may_override() -> None:
    strict = Thresholds(staff_returned_pct=99.0, capacity_pct=96.0)
    assert assess(facts(), DEFAULT_THRESHOLDS).color is FlagColor.GREEN
    flag = assess(facts(), strict)
    assert flag.color is FlagColor.YELLOW
    assert flag.reason == "1.7% of staff not returned (2 of 120); capacity 95%, below 96%"
    with pytest.raises(AttributeError):
        DEFAULT_THRESHOLDS.capacity_pct = 10.0  # type: ignore[misc]


def test_a_report_keeps_what_it_leaves_out_and_clears_problems_with_an_empty_list() -> None:
    before = facts(PARTIAL, returned=72, capacity_pct=60.0, problems=("物流不畅",))
    kept = reported(before, ResumptionReport(FULL), has_capacity=True)
    assert (kept.returned, kept.capacity_pct, kept.problems) == (72, 60.0, ("物流不畅",))
    cleared = reported(before, ResumptionReport(FULL, problems=[]), has_capacity=True)
    assert cleared.problems == ()
    tidy = reported(
        before,
        ResumptionReport(FULL, problems=[" 物流不畅 ", "物流不畅", "订单不足"]),
        has_capacity=True,
    )
    assert tidy.problems == ("物流不畅", "订单不足")
    rounded = reported(before, ResumptionReport(FULL, capacity_pct=62.25), has_capacity=True)
    assert rounded.capacity_pct == 62.3  # as numeric(5,1) stores it, so the reason quotes it


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (ResumptionReport(FULL, returned=121), "between 0 and 120"),
        (ResumptionReport(FULL, returned=-1), "between 0 and 120"),
        (ResumptionReport(FULL, capacity_pct=100.5), "between 0 and 100"),
        (ResumptionReport(FULL, capacity_pct=-0.1), "between 0 and 100"),
        (ResumptionReport(FULL, capacity_pct=math.nan), "between 0 and 100"),
        (ResumptionReport(FULL, problems=["原材料短缺", "  "]), "problem 2 is empty"),
        (ResumptionReport(FULL, problems=["长" * 201]), "at most 200"),
        (ResumptionReport(FULL, problems=[f"问题{i}" for i in range(21)]), "at most 20"),
    ],
)
def test_a_report_out_of_bounds_is_refused_with_a_clear_message(
    report: ResumptionReport, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        reported(facts(), report, has_capacity=True)


def test_boundary_reports_are_accepted() -> None:
    report = ResumptionReport(
        FULL,
        returned=120,
        capacity_pct=100.0,
        problems=["长" * 200] + [f"问题{i}" for i in range(19)],
    )
    after = reported(facts(), report, has_capacity=True)
    assert len(after.problems) == 20
    assert (
        reported(facts(), ResumptionReport(FULL, returned=0, capacity_pct=0.0), True).returned == 0
    )


def test_a_site_cannot_report_capacity() -> None:
    site = facts(people="workers", capacity_pct=None)
    with pytest.raises(BadInput, match="no capacity"):
        reported(site, ResumptionReport(FULL, capacity_pct=50.0), has_capacity=False)


def test_same_facts_ignore_the_order_of_problems_only() -> None:
    a = facts(problems=("原材料短缺", "物流不畅"))
    assert same_facts(a, facts(problems=("物流不畅", "原材料短缺")))
    assert not same_facts(a, facts(problems=("原材料短缺",)))
    assert not same_facts(a, facts(returned=117, problems=("原材料短缺", "物流不畅")))
