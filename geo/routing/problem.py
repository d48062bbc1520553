"""A prize-collecting vehicle-routing problem, as the solvers see it: indices, seconds, prizes.
Point 0 is the base; points 1..n are the targets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    duration_s: np.ndarray  # (n+1, n+1) whole seconds of travel; row and column 0: the base
    service_s: Sequence[int]  # per point; the base's is 0
    priority: Sequence[int]  # per point: 1 kept first … 4 routine (DueTarget.rank); base ignored
    inspectors: int
    shift_s: int  # from leaving the base to being back, service included

    @property
    def targets(self) -> range:
        return range(1, len(self.service_s))


@dataclass(frozen=True)
class Solution:
    routes: list[list[int]]  # per inspector: target indices in visiting order, base left out
    dropped: list[int]  # targets in no route
    solve_s: float  # wall time of the solver call


def prizes(priorities: Sequence[int], unit: int) -> dict[int, int]:
    """The penalty for leaving out a target of each priority: strictly lexicographic.

    The lowest priority is worth `unit` (more than any route's travel cost, so nothing is left
    out to save road), and each priority above is worth more than every target below it
    together: one red beats any number of yellows, one yellow any number of routine checks.
    """
    counts = Counter(priorities)
    worth: dict[int, int] = {}
    below = 0
    for level in sorted(counts, reverse=True):
        worth[level] = below + unit
        below += worth[level] * counts[level]
    return worth


def route_duration_s(problem: Problem, route: Sequence[int]) -> int:
    """Travel and service from the base round the route and back."""
    path = [0, *route, 0]
    travel = sum(int(problem.duration_s[a, b]) for a, b in zip(path, path[1:], strict=False))
    return travel + sum(int(problem.service_s[i]) for i in route)


def repair(problem: Problem, solution: Solution) -> Solution:
    """Mend what a solver cut short by its time limit: put a left-out target into a route where
    it fits, or in place of a visited target of lower priority, most urgent first."""
    routes = [list(route) for route in solution.routes]
    dropped = sorted(solution.dropped, key=lambda t: problem.priority[t])
    for target in list(dropped):
        if _insert(problem, routes, target) or _swap(problem, routes, target):
            dropped.remove(target)
    return Solution(routes, dropped, solution.solve_s)


def _insert(problem: Problem, routes: list[list[int]], target: int) -> bool:
    best: tuple[int, int, int] | None = None  # (added seconds, route, position)
    for r, route in enumerate(routes):
        spare = problem.shift_s - route_duration_s(problem, route)
        path = [0, *route, 0]
        for k in range(len(path) - 1):
            a, b = path[k], path[k + 1]
            d = problem.duration_s
            added = int(d[a, target] + d[target, b] - d[a, b]) + int(problem.service_s[target])
            if added <= spare and (best is None or added < best[0]):
                best = (added, r, k)
    if best is None:
        return False
    routes[best[1]].insert(best[2], target)
    return True


def _swap(problem: Problem, routes: list[list[int]], target: int) -> bool:
    # The least urgent visited stop first: give up a routine check before a yellow.
    for _, r, k in sorted(
        (
            (-problem.priority[t], r, k)
            for r, route in enumerate(routes)
            for k, t in enumerate(route)
            if problem.priority[t] > problem.priority[target]
        ),
    ):
        trial = [*routes[r][:k], target, *routes[r][k + 1 :]]
        if route_duration_s(problem, trial) <= problem.shift_s:
            routes[r] = trial
            return True
    return False
