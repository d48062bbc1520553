"""February 2020 for each target: its reports from the first working day to its last, flagged
by the rules, as flag_change rows; the last report gives the row's stored facts and flag.

Every target reports on 3 February, the first working day after the extended Spring Festival
holiday, not back at work (red). A target that ends yellow reports once more, partly back or
with problems, on a day from the 10th; one that ends green reports partly back first, and
fully back on a later day. One that ends red reports again from the 10th, still not back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.flag_rules import Assessment, Facts, assess
from geo.models import FlagColor, FlagSource, ResumptionStatus
from geo.seed.copytext import Batch, join
from geo.targets import KINDS, TargetKind

FIRST_DAY = 3  # of February 2020
LATER_DAYS = (10, 27)  # the second report, and the day a target turns yellow, from … to
LAST_DAY = 27  # the day of the report that the demo depicts
OFFICE_HOURS_MIN = (8 * 60, 18 * 60)  # reports arrive between 08:00 and 18:00 local time
FIRST_RETURNED_SHARE = 0.05  # of staff or workers, back on the 3rd
MIDWAY_RETURNED = (0.5, 0.9)  # of the way from the first figure to the last, when partly back
MIDWAY_CAPACITY = (0.4, 0.8)  # of the final capacity, when partly back
CHANGE_COLUMNS = ("from_color", "to_color", "reason", "at", "actor", "source")
ACTOR, SOURCE = "rules", FlagSource.RULE.value
TIMES = [f"2020-02-{day:02d} " for day in range(30)]  # by day of February
CLOCK = [f"{m // 60:02d}:{m % 60:02d}:00+08" for m in range(24 * 60)]  # by minute of the day


@dataclass(frozen=True)
class Histories:
    """Per target, as COPY text: its stored flag and when it last reported; and its changes."""

    flag_color: list[str]
    flag_reason: list[str]
    flag_since: list[str]
    reported_at: list[str]
    resumed_on: np.ndarray  # day of February it turned yellow or green; 0 if it never did
    changes: Batch


def histories(
    rng: np.random.Generator,
    kind: TargetKind,
    ids: np.ndarray,
    finals: Sequence[Facts],
    first_problem: str,
    problems: Sequence[str],
    resumed_by: np.ndarray | None = None,
) -> Histories:
    """The reports of each target, ending with `finals`: on the 3rd with first_problem open,
    and when partly back on the way to green, with one of `problems`.

    resumed_by, where given, is the latest day each target may turn yellow (the named
    enterprises' signboards say when they were back).
    """
    n = len(finals)
    ends = [assess(f) for f in finals]
    ends_green = np.array([e.color is FlagColor.GREEN for e in ends])
    back = np.array([e.color is not FlagColor.RED for e in ends])
    # The day it turns yellow (or, ending red, reports again); green comes a day or more later.
    first, last = LATER_DAYS
    turn = np.where(ends_green, rng.integers(first, last - 1, n), rng.integers(first, last + 1, n))
    if resumed_by is not None:
        turn = np.minimum(turn, resumed_by)
    green = turn + 1 + np.floor(rng.random(n) * (LAST_DAY - turn)).astype(int)
    minutes = rng.integers(*OFFICE_HOURS_MIN, (n, 3))
    totals = np.array([f.total for f in finals])
    final_returned = np.array([f.returned for f in finals])
    returned_first = np.minimum(final_returned, rng.binomial(totals, FIRST_RETURNED_SHARE))
    midway = rng.uniform(*MIDWAY_RETURNED, n)
    returned_mid = returned_first + np.floor((final_returned - returned_first) * midway)
    capacity_mid = rng.uniform(*MIDWAY_CAPACITY, n)
    problem_mid = rng.integers(0, len(problems), n)

    # Python scalars from here: the loop below runs once per target, a million times.
    days = np.stack([np.full(n, FIRST_DAY), turn, green], axis=1).tolist()
    per_target = zip(
        ids.tolist(), finals, ends, ends_green.tolist(), days, minutes.tolist(),
        returned_first.tolist(), returned_mid.astype(int).tolist(), capacity_mid.tolist(),
        problem_mid.tolist(), strict=True,
    )  # fmt: skip
    columns: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
    lines: list[str] = []
    for target, final, end, to_green, day, minute, r_first, r_mid, c_mid, p_mid in per_target:
        reports = [
            Facts(
                ResumptionStatus.NOT_RESUMED, final.total, r_first,
                None if final.capacity_pct is None else 0.0, (first_problem,), final.people,
            )
        ]  # fmt: skip
        if to_green:
            capacity = None if final.capacity_pct is None else round(final.capacity_pct * c_mid, 1)
            reports.append(
                Facts(
                    ResumptionStatus.PARTIAL, final.total, r_mid, capacity, (problems[p_mid],),
                    final.people,
                )
            )  # fmt: skip
        times = [f"{TIMES[d]}{CLOCK[m]}" for d, m in zip(day, minute, strict=True)]
        flag = _changes([*(assess(r) for r in reports), end], times, target, lines)
        for column, value in zip(columns, (*flag, times[len(reports)]), strict=True):
            column.append(value)
    return Histories(
        *columns,
        resumed_on=np.where(back, turn, 0),
        changes=Batch("flag_change", (KINDS[kind].column, *CHANGE_COLUMNS), lines),
    )


def _changes(
    flags: list[Assessment], times: list[str], target: int, out: list[str]
) -> tuple[str, str, str]:
    """Append a row per change of colour or reason; the final colour, reason and since."""
    previous: Assessment | None = None
    since = times[0]
    for now, at in zip(flags, times, strict=False):
        if now == previous:
            continue
        if previous is None or now.color is not previous.color:
            since = at
        before = "\\N" if previous is None else previous.color.value
        out.append(join((str(target), before, now.color.value, now.reason, at, ACTOR, SOURCE)))
        previous = now
    return flags[-1].color.value, flags[-1].reason, since
