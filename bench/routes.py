"""Routing solvers compared on generated zones: route length against the best found with a
30 s budget, and solve time. `python -m bench.routes [--quick] [--database-url URL]`."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg2

from geo.routing import ortools_solver, vroom_solver
from geo.routing.matrix import Matrix, StraightLine
from geo.routing.plan import TIME_LIMIT_S
from geo.routing.problem import Problem, Solution, repair

SIZES = (20, 50, 100, 200)
SEEDS = (1, 2, 3)
BUDGET_S = 30.0
BASE = (119.578, 25.872)  # 金峰镇第一片区's base
HALF_SIDE_DEG = (0.015, 0.0135)  # ~3 x 3 km around the base at this latitude
SERVICE_S = 600
ALL_FIT_SHIFT_S = 10**6  # a shift that holds every stop: the pure routing question
SCRATCH_DB = "fugong_bench_routes"

Solve = Callable[[Problem, float], Solution]
SOLVERS: dict[str, Solve] = {"ortools": ortools_solver.solve, "vroom": vroom_solver.solve}


@dataclass(frozen=True)
class Zone:
    size: int
    seed: int
    points: list[tuple[float, float]]
    matrix: Matrix
    priority: list[int]


def zone(size: int, seed: int) -> Zone:
    rng = np.random.default_rng([20200227, size, seed])
    lon = BASE[0] + rng.uniform(-HALF_SIDE_DEG[0], HALF_SIDE_DEG[0], size)
    lat = BASE[1] + rng.uniform(-HALF_SIDE_DEG[1], HALF_SIDE_DEG[1], size)
    points = [BASE, *zip(lon.tolist(), lat.tolist(), strict=True)]
    priority = [0, *rng.choice([1, 2, 3], size=size, p=[0.4, 0.3, 0.3]).tolist()]
    return Zone(size, seed, points, StraightLine().matrix(points), priority)


def problem(z: Zone, shift_s: int) -> Problem:
    return Problem(z.matrix.duration_s, [0] + [SERVICE_S] * z.size, z.priority, 1, shift_s)


def length_m(z: Zone, route: list[int]) -> float:
    return z.matrix.legs([0, *route, 0])[0]


def pgr_tsp(cursor: psycopg2.extensions.cursor, z: Zone) -> tuple[float, float]:
    """pgRouting's TSP (a 2-approximation) on the same metres; ids are 1-based, 1 the base."""
    n = len(z.points)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    mask = i != j
    cursor.execute("TRUNCATE bench_matrix")
    cursor.execute(
        "INSERT INTO bench_matrix SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::float8[])",
        ((i[mask] + 1).tolist(), (j[mask] + 1).tolist(), z.matrix.distance_m[mask].tolist()),
    )
    began = time.perf_counter()
    cursor.execute(
        "SELECT node FROM pgr_TSP('SELECT start_vid, end_vid, agg_cost FROM bench_matrix',"
        " start_id => 1) ORDER BY seq"
    )
    seconds = time.perf_counter() - began
    tour = [node - 1 for (node,) in cursor.fetchall()]
    return length_m(z, [t for t in tour if t != 0]), seconds


def connect(url: str) -> tuple[psycopg2.extensions.connection, psycopg2.extensions.cursor] | None:
    try:
        admin = psycopg2.connect(url + "/postgres")
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {SCRATCH_DB}")
        admin.close()
        db = psycopg2.connect(f"{url}/{SCRATCH_DB}")
        db.autocommit = True
        cursor = db.cursor()
        cursor.execute("CREATE EXTENSION pgrouting CASCADE")
        cursor.execute(
            "CREATE TABLE bench_matrix (start_vid bigint, end_vid bigint, agg_cost float8)"
        )
        return db, cursor
    except psycopg2.Error as error:
        print(f"pgr_TSP skipped: {error}".strip())
        return None


def drop(url: str) -> None:
    admin = psycopg2.connect(url + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
    admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 30 s budget runs")
    parser.add_argument("--database-url", default="postgresql://fugong@127.0.0.1:54329")
    args = parser.parse_args()
    pg = connect(args.database_url)
    try:
        routing_table(pg[1] if pg else None, args.quick)
        prize_table()
    finally:
        if pg:
            pg[0].close()
            drop(args.database_url)


def routing_table(cursor: psycopg2.extensions.cursor | None, quick: bool) -> None:
    print(
        f"\nEvery stop fits (one inspector); production limit {TIME_LIMIT_S} s; gap vs best in"
        f" {BUDGET_S:.0f} s (seed {SEEDS[0]}) or best of all runs\n"
    )
    print("| targets | solver | gap % (mean / max) | solve s (mean / max) |")
    print("|---:|---|---:|---:|")
    for size in SIZES:
        rows: dict[str, list[tuple[float, float]]] = {}
        for seed in SEEDS:
            z = zone(size, seed)
            runs: dict[str, tuple[float, float]] = {}
            for name, solve in SOLVERS.items():
                s = solve(problem(z, ALL_FIT_SHIFT_S), TIME_LIMIT_S)
                runs[name] = (length_m(z, s.routes[0]), s.solve_s)
                if not quick and seed == SEEDS[0]:
                    s = solve(problem(z, ALL_FIT_SHIFT_S), BUDGET_S)
                    runs[f"{name} {BUDGET_S:.0f} s"] = (length_m(z, s.routes[0]), s.solve_s)
            if cursor is not None:
                runs["pgr_TSP"] = pgr_tsp(cursor, z)
            best = min(length for length, _ in runs.values())
            for name, (length, seconds) in runs.items():
                rows.setdefault(name, []).append((100 * (length / best - 1), seconds))
        for name, values in rows.items():
            gaps, secs = zip(*values, strict=True)
            print(
                f"| {size} | {name} | {statistics.mean(gaps):.2f} / {max(gaps):.2f} |"
                f" {statistics.mean(secs):.2f} / {max(secs):.2f} |"
            )


def prize_table() -> None:
    print(
        f"\n8 h shift, 10 min a stop, priorities 40/30/30 %; production limit {TIME_LIMIT_S} s,"
        " after repair; stops visited per priority (seed 1)\n"
    )
    print("| targets | solver | urgent | follow-up | routine | km | solve s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in SIZES:
        z = zone(size, SEEDS[0])
        p = problem(z, 480 * 60)
        for name, solve in SOLVERS.items():
            s = repair(p, solve(p, TIME_LIMIT_S))
            route = s.routes[0]
            visited = [sum(z.priority[t] == k for t in route) for k in (1, 2, 3)]
            totals = [z.priority.count(k) for k in (1, 2, 3)]
            cells = " | ".join(f"{v}/{t}" for v, t in zip(visited, totals, strict=True))
            print(
                f"| {size} | {name} | {cells} | {length_m(z, route) / 1000:.1f} | {s.solve_s:.2f} |"
            )


if __name__ == "__main__":
    main()
