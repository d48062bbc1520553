"""The problem on OR-Tools' routing library: disjunctions priced by priority, a time dimension
bounded by the shift, guided local search until the time limit."""

from __future__ import annotations

import time

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from geo.routing.problem import Problem, Solution, prizes


def solve(problem: Problem, time_limit_s: float) -> Solution:
    started = time.perf_counter()
    points = len(problem.service_s)
    manager = pywrapcp.RoutingIndexManager(points, problem.inspectors, 0)
    routing = pywrapcp.RoutingModel(manager)
    travel = problem.duration_s.tolist()  # plain ints: the callbacks run millions of times
    service = [int(s) for s in problem.service_s]

    def travel_cost(i: int, j: int) -> int:
        return travel[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def working_time(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return travel[a][b] + service[a]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(travel_cost))
    routing.AddDimension(
        routing.RegisterTransitCallback(working_time),
        0,  # no waiting: targets have no time windows
        problem.shift_s,
        True,  # every inspector leaves the base at the start of the shift
        "time",
    )
    worth = prizes([problem.priority[t] for t in problem.targets], _unit(problem))
    for target in problem.targets:
        routing.AddDisjunction([manager.NodeToIndex(target)], worth[problem.priority[target]])

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    # Cheapest insertion starts from the prizes, not the arcs: with 200 targets and a short
    # shift it fills the day with urgent stops where PATH_CHEAPEST_ARC left many out (bench).
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    assignment = routing.SolveWithParameters(parameters)
    if assignment is None:  # cannot happen with every target optional, but never crash on it
        return Solution([[] for _ in range(problem.inspectors)], list(problem.targets), 0.0)

    routes = []
    for vehicle in range(problem.inspectors):
        route, index = [], assignment.Value(routing.NextVar(routing.Start(vehicle)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    visited = {t for route in routes for t in route}
    dropped = [t for t in problem.targets if t not in visited]
    return Solution(routes, dropped, time.perf_counter() - started)


def _unit(problem: Problem) -> int:
    # No plan travels longer than every inspector's whole shift, so this outweighs any saving.
    return problem.shift_s * problem.inspectors + 1
