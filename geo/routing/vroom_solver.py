"""The problem on VROOM (pyvroom): jobs with priorities and service times, inspectors as
vehicles with the shift as their time window, a timeout."""

from __future__ import annotations

import time
from datetime import timedelta

import vroom

from geo.routing.problem import Problem, Solution

# VROOM maximises the sum of job priorities (0-100) before anything else, then the number of
# jobs, then minimises cost. So routine checks at 0 never displace a yellow, and a red flag
# (100) outweighs up to 99 urgent rentals: more than a shift holds (480 min / 10 min = 48).
VROOM_PRIORITY = {1: 100, 2: 2, 3: 1, 4: 0}


def solve(problem: Problem, time_limit_s: float, exploration_level: int = 5) -> Solution:
    started = time.perf_counter()
    if not problem.targets:  # VROOM refuses an input without jobs
        return Solution([[] for _ in range(problem.inspectors)], [], 0.0)
    instance = vroom.Input()
    instance.set_durations_matrix(profile="car", matrix_input=problem.duration_s.tolist())
    for vehicle in range(problem.inspectors):
        window = vroom.TimeWindow(0, problem.shift_s)
        instance.add_vehicle(vroom.Vehicle(vehicle + 1, start=0, end=0, time_window=window))
    instance.add_job(
        [
            vroom.Job(
                t,
                location=t,
                default_service=int(problem.service_s[t]),
                priority=VROOM_PRIORITY[problem.priority[t]],
            )
            for t in problem.targets
        ]
    )
    result = instance.solve(
        exploration_level=exploration_level,
        nb_threads=2,
        timeout=timedelta(seconds=time_limit_s),
    )
    routes: list[list[int]] = [[] for _ in range(problem.inspectors)]
    for route in result.to_dict()["routes"]:
        jobs = [step["id"] for step in route["steps"] if step["type"] == "job"]
        routes[route["vehicle"] - 1] = jobs
    visited = {t for route in routes for t in route}
    dropped = [t for t in problem.targets if t not in visited]
    return Solution(routes, dropped, time.perf_counter() - started)
