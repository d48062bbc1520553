"""An inspection plan for a zone and a day: who is due, solved into routes, with planned
arrivals, lengths, durations and a line to draw; the rest listed as unvisited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import numpy as np
from shapely.geometry import LineString
from sqlalchemy import Connection

from geo.days import TIMEZONE
from geo.due import DEFAULT_RULES, DueRules, DueTarget, sort_key
from geo.routing import ortools_solver, vroom_solver
from geo.routing.inputs import ZoneDay, zone_day
from geo.routing.matrix import LonLat, Matrix, MatrixProvider, StraightLine
from geo.routing.problem import Problem, Solution, repair
from geo.routing.road_network import RoadNetwork

Solver = Callable[[Problem, float], Solution]
SOLVERS: dict[str, Solver] = {"ortools": ortools_solver.solve, "vroom": vroom_solver.solve}
DEFAULT_SOLVER = "ortools"  # see BENCHMARKS.md, "Routing"
TIME_LIMIT_S = 0.8  # the solver's budget; the plan is answered within a second


@dataclass(frozen=True)
class PlanSettings:
    shift_start: time = time(8, 30)  # Asia/Shanghai
    time_limit_s: float = TIME_LIMIT_S
    solver: str = DEFAULT_SOLVER
    matrix: MatrixProvider | None = None  # None: the roads if loaded for the zone, else straight
    rules: DueRules = DEFAULT_RULES


DEFAULT_SETTINGS = PlanSettings()


@dataclass(frozen=True)
class RouteStop:
    sequence: int  # 1, 2, 3 … in visiting order
    target: DueTarget
    planned_arrival: datetime  # aware, Asia/Shanghai


@dataclass(frozen=True)
class Route:
    stops: list[RouteStop]
    distance_m: float
    duration_min: float  # leaving the base to being back, service included
    geometry: LineString  # lon/lat, WGS84: base → stops → base


@dataclass(frozen=True)
class InspectionPlan:
    zone_id: int
    day: date
    base: LonLat
    distance_model: str
    routes: list[Route]  # one per inspector; an idle inspector's route is empty
    unvisited: list[DueTarget]  # due but not fitting, lowest priority first


def inspection_plan(
    connection: Connection,
    zone_id: int,
    day: date,
    inspectors: int = 1,
    shift_minutes: int = 480,
    settings: PlanSettings = DEFAULT_SETTINGS,
) -> InspectionPlan:
    """The day's routes of a zone's inspectors, from its base, for everyone due that day,
    solved afresh (geo/routing/stored.py keeps a plan and answers it again)."""
    inputs = zone_day(connection, zone_id, day, settings.rules)
    return solve_zone_day(connection, inputs, inspectors, shift_minutes, settings)


def solve_zone_day(
    connection: Connection,
    inputs: ZoneDay,
    inspectors: int = 1,
    shift_minutes: int = 480,
    settings: PlanSettings = DEFAULT_SETTINGS,
) -> InspectionPlan:
    """Solve what `zone_day` read: on the roads when they reach into the zone."""
    if settings.matrix is None:
        roads = inputs.road_version is not None
        settings = replace(settings, matrix=RoadNetwork(connection) if roads else StraightLine())
    return plan_routes(
        inputs.zone_id, inputs.day, inputs.base, inputs.due, inspectors, shift_minutes, settings
    )


def plan_routes(
    zone_id: int,
    day: date,
    base: LonLat,
    due: Sequence[DueTarget],
    inspectors: int = 1,
    shift_minutes: int = 480,
    settings: PlanSettings = DEFAULT_SETTINGS,
    origin: LonLat | None = None,
    start: datetime | None = None,
) -> InspectionPlan:
    """Solve and assemble; pure apart from the solver's clock. Routes leave from `origin`
    (default: the base) at `start` (default: the shift's start) and end at the base."""
    if inspectors < 1 or shift_minutes < 1:
        raise ValueError("a plan needs at least one inspector and a shift of a minute or more")
    provider = settings.matrix or StraightLine()
    matrix = _matrix(provider, base, origin, due)
    problem = Problem(
        duration_s=matrix.duration_s,
        service_s=[0, *(t.service_minutes * 60 for t in due)],
        priority=[0, *(t.rank for t in due)],
        inspectors=inspectors,
        shift_s=shift_minutes * 60,
    )
    solution = repair(problem, SOLVERS[settings.solver](problem, settings.time_limit_s))
    start = start or datetime.combine(day, settings.shift_start, TIMEZONE)
    ends = (origin or base, base)
    routes = [
        _route(route, due, ends, matrix, problem, start, provider) for route in solution.routes
    ]
    unvisited = sorted((due[i - 1] for i in solution.dropped), key=sort_key, reverse=True)
    return InspectionPlan(zone_id, day, base, provider.distance_model, routes, unvisited)


def _matrix(
    provider: MatrixProvider, base: LonLat, origin: LonLat | None, due: Sequence[DueTarget]
) -> Matrix:
    """Point 0 is where routes leave from and come back to. Leaving from elsewhere than the
    base, row 0 is the origin's and column 0 the base's: the solvers read it as it is."""
    targets = [(t.lon, t.lat) for t in due]
    if origin is None:
        return provider.matrix([base, *targets])
    full = provider.matrix([origin, base, *targets])
    rows = [0, *range(2, len(targets) + 2)]
    columns = [1, *range(2, len(targets) + 2)]
    pick = np.ix_(rows, columns)
    return Matrix(distance_m=full.distance_m[pick], duration_s=full.duration_s[pick])


def _route(
    indices: Sequence[int],
    due: Sequence[DueTarget],
    ends: tuple[LonLat, LonLat],
    matrix: Matrix,
    problem: Problem,
    start: datetime,
    provider: MatrixProvider,
) -> Route:
    stops, clock_s, here = [], 0, 0
    for sequence, index in enumerate(indices, start=1):
        clock_s += int(matrix.duration_s[here, index])
        stops.append(RouteStop(sequence, due[index - 1], start + timedelta(seconds=clock_s)))
        clock_s += problem.service_s[index]
        here = index
    clock_s += int(matrix.duration_s[here, 0])
    distance_m, _ = matrix.legs([0, *indices, 0])
    # A route with no stops is a line that stays at the base: still a valid LineString.
    points = [ends[0], *((s.target.lon, s.target.lat) for s in stops), ends[1]]
    line = provider.path(points) if isinstance(provider, RoadNetwork) else LineString(points)
    return Route(stops, distance_m, (clock_s / 60) if stops else 0.0, line)
