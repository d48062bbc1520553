"""The flag domain in pure Python: the rules (green, yellow or red, and why), what a status
report may say, and the values that flags and their history are made of. The write path, the
demo seed and the migration all call `assess`: the rules have one implementation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from geo.errors import BadInput
from geo.models import FlagColor, FlagSource, ResumptionStatus
from geo.targets import Target

MAX_PROBLEMS, MAX_PROBLEM_CHARS = 20, 200


@dataclass(frozen=True)
class Thresholds:
    """Below these, a fully resumed target still flies a yellow flag."""

    staff_returned_pct: float = 80.0  # staff (or a site's workers) back, of the total
    capacity_pct: float = 70.0  # production capacity; building sites have none


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Facts:
    """What a status report says, and what the rules read."""

    status: ResumptionStatus
    total: int  # staff of an enterprise, workers of a site
    returned: int
    capacity_pct: float | None  # None: not reported, or a building site
    problems: tuple[str, ...] = ()  # open problems, in the words reported
    people: str = "staff"  # how the reason names them: "staff" or "workers"


@dataclass(frozen=True)
class Assessment:
    color: FlagColor
    reason: str  # the facts that produced the colour, in words an officer can act on


def assess(facts: Facts, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Assessment:
    """RED when not resumed; YELLOW when partly resumed, or fully resumed with open problems
    or below a threshold; GREEN otherwise. A threshold is met when the figure equals it."""
    if facts.status is ResumptionStatus.NOT_RESUMED:
        parts = [f"not back at work: {_returned(facts)}", *_problems(facts)]
        return Assessment(FlagColor.RED, "; ".join(parts))
    if facts.status is ResumptionStatus.PARTIAL:
        figures = ", ".join([_returned(facts), *_capacity(facts)])
        parts = [f"partly back at work: {figures}", *_problems(facts)]
        return Assessment(FlagColor.YELLOW, "; ".join(parts))
    shortfalls = [*_problems(facts), *_staff_short(facts, thresholds)]
    shortfalls += _capacity_short(facts, thresholds)
    if shortfalls:
        return Assessment(FlagColor.YELLOW, "; ".join(shortfalls))
    figures = ", ".join([_back(facts), *_capacity(facts)])
    return Assessment(FlagColor.GREEN, f"fully back: {figures}")


def _returned(facts: Facts) -> str:
    return f"{facts.returned} of {facts.total} {facts.people} returned"


def _back(facts: Facts) -> str:
    if facts.total == 0:
        return f"no {facts.people} on record"
    return f"{facts.returned} of {facts.total} {facts.people}"


def _capacity(facts: Facts) -> list[str]:
    return [] if facts.capacity_pct is None else [f"capacity {percent(facts.capacity_pct)}"]


def _problems(facts: Facts) -> list[str]:
    count = len(facts.problems)
    if count == 0:
        return []
    noun = "open problem" if count == 1 else "open problems"
    return [f"{count} {noun}: {', '.join(facts.problems)}"]


def _staff_short(facts: Facts, thresholds: Thresholds) -> list[str]:
    # Compared in whole numbers of people, so that exactly the threshold counts as met.
    if facts.returned * 100 >= thresholds.staff_returned_pct * facts.total:
        return []
    missing = facts.total - facts.returned
    share = percent(100 * missing / facts.total)
    return [f"{share} of {facts.people} not returned ({missing} of {facts.total})"]


def _capacity_short(facts: Facts, thresholds: Thresholds) -> list[str]:
    if facts.capacity_pct is None or facts.capacity_pct >= thresholds.capacity_pct:
        return []
    return [f"capacity {percent(facts.capacity_pct)}, below {percent(thresholds.capacity_pct)}"]


def percent(value: float) -> str:
    """40%, 62.5%: one decimal at most, none when whole."""
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


@dataclass(frozen=True)
class ResumptionReport:
    """A status report; a figure left None keeps the stored one, and problems=() clears them."""

    status: ResumptionStatus
    returned: int | None = None  # staff of an enterprise, workers of a site
    capacity_pct: float | None = None  # enterprises only
    problems: Sequence[str] | None = None


def reported(before: Facts, report: ResumptionReport, has_capacity: bool) -> Facts:
    """The facts after a report, checked; BadInput names the first figure out of bounds."""
    people = before.people
    returned = before.returned if report.returned is None else report.returned
    if not 0 <= returned <= before.total:
        raise BadInput(
            f"{people} returned must be between 0 and {before.total}"
            f" (the {people} on record), not {returned}"
        )
    capacity = before.capacity_pct
    if report.capacity_pct is not None:
        if not has_capacity:
            raise BadInput("a construction site has no capacity to report")
        if not (math.isfinite(report.capacity_pct) and 0 <= report.capacity_pct <= 100):
            raise BadInput(f"capacity must be between 0 and 100 percent, not {report.capacity_pct}")
        # Stored with one decimal: the reason must quote what is stored.
        tenths = Decimal(str(report.capacity_pct)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        capacity = float(tenths)
    problems = before.problems if report.problems is None else _checked(report.problems)
    return replace(
        before, status=report.status, returned=returned, capacity_pct=capacity, problems=problems
    )


def _checked(problems: Sequence[str]) -> tuple[str, ...]:
    if len(problems) > MAX_PROBLEMS:
        raise BadInput(f"{len(problems)} problems reported; at most {MAX_PROBLEMS}")
    kept: dict[str, None] = {}  # in the order reported, without repeats
    for i, problem in enumerate(problems, start=1):
        problem = problem.strip()
        if not problem:
            raise BadInput(f"problem {i} is empty")
        if len(problem) > MAX_PROBLEM_CHARS:
            raise BadInput(f"problem {i} is {len(problem)} characters; at most {MAX_PROBLEM_CHARS}")
        kept[problem] = None
    return tuple(kept)


def same_facts(before: Facts, after: Facts) -> bool:
    """The same facts for the rules: the open problems compare as a set, in any order."""
    unordered = replace(before, problems=()) == replace(after, problems=())
    return unordered and set(before.problems) == set(after.problems)


@dataclass(frozen=True)
class FlagState:
    color: FlagColor
    reason: str
    since: datetime  # when the flag took this colour; a new reason in the same colour keeps it
    overridden: bool  # set by hand rather than by the rules


@dataclass(frozen=True)
class FlagEvent:
    """One row of flag_change."""

    id: int
    target: Target
    from_color: FlagColor | None  # None: the target's first flag
    to_color: FlagColor
    reason: str
    at: datetime
    actor: str
    source: FlagSource


@dataclass(frozen=True)
class FlagUpdate:
    state: FlagState
    change: FlagEvent | None  # None when nothing changed, and nothing was appended or notified
