"""Stored route plans: a zone's first pull of the day (solved and stored) against a repeated
pull (answered from `route_plan`), in-process, on the demo inspector's zone (160 due targets on
2020-02-28), in a scratch database seeded with the demo and dropped at the end; then 50 pulls
of one fresh key at once on 50 connections."""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from api.app import create_app
from api.auth import issue_token
from api.settings import get_settings
from bench import databases
from geo import seed
from geo.db import make_engine, make_sessionmaker
from geo.routing import PlanKey, reused, solved, stored_plan

SCRATCH_DB = "fugong_bench_route_plans"
DAY = date(2020, 2, 28)
FIRST_PULLS = 3  # each a fresh key (another shift length), so each one solves
REPEATS = 20
RACERS = 50
PULL = """query ($zone: ID!, $shift: Int) { inspectionRoute(zoneId: $zone, date: "2020-02-28",
  shiftMinutes: $shift) { plannedAt routes { distanceMeters stops { sequence visited reason
  plannedArrival target { ... on Enterprise { id name } ... on ConstructionSite { id name }
  ... on RentalProperty { id } } } } } }"""


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds (this process: the solver runs in it) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def row(name: str, samples: list[tuple[float, float]]) -> str:
    walls = [w * 1000 for w, _ in samples]
    cpus = [c * 1000 for _, c in samples]
    return (
        f"| {name} | {len(samples)} | {statistics.median(walls):.1f} / {max(walls):.1f} |"
        f" {statistics.median(cpus):.1f} |"
    )


def geo_pulls(engine: Engine, zone: int) -> list[str]:
    def first(shift: int) -> None:
        with engine.begin() as connection:
            stored_plan(connection, PlanKey(zone, DAY, 1, shift))

    key = PlanKey(zone, DAY, 1, 480)

    def again() -> None:
        with engine.connect() as connection:
            assert reused(connection, key) is not None

    def waiter() -> None:  # what a racer pays after the lock: inputs and row read again
        with engine.begin() as connection:
            solved(connection, key)

    shifts = range(480, 480 - FIRST_PULLS, -1)
    return [
        row("first pull (solve + store)", [timed(lambda s=s: first(s)) for s in shifts]),
        row("repeated pull (`reused`)", [timed(again) for _ in range(REPEATS)]),
        row("repeated pull under the lock (`solved`)", [timed(waiter) for _ in range(REPEATS)]),
    ]


def graphql_pulls(engine: Engine, zone: int) -> list[str]:
    with engine.connect() as connection:
        account = connection.execute(
            text("SELECT id FROM account WHERE username = 'inspector'")
        ).scalar_one()
    headers = {"Authorization": f"Bearer {issue_token(get_settings(), account)}"}
    shifts = range(470, 470 - FIRST_PULLS, -1)
    with TestClient(create_app(sessions=make_sessionmaker(engine))) as client:

        def pull(shift: int) -> None:
            body = {"query": PULL, "variables": {"zone": f"PatrolZone:{zone}", "shift": shift}}
            response = client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200 and "errors" not in response.json()

        return [
            row("GraphQL first pull", [timed(lambda s=s: pull(s)) for s in shifts]),
            row("GraphQL repeated pull", [timed(lambda: pull(470)) for _ in range(REPEATS)]),
        ]


def racing_pulls(engine: Engine, zone: int) -> str:
    key = PlanKey(zone, DAY, 2, 420)
    start, errors = threading.Barrier(RACERS), []

    def racer() -> None:
        try:
            with engine.begin() as connection:
                start.wait(30)
                stored_plan(connection, key)
        except Exception as error:  # noqa: BLE001 - counted below
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    with engine.connect() as connection:
        solves = connection.execute(
            text("SELECT solves FROM route_plan WHERE inspectors = 2 AND shift_minutes = 420")
        ).scalar_one()
    return (
        f"{RACERS} pulls of one fresh key at once, {RACERS} connections: {solves} solve(s),"
        f" {len(errors)} errors, all answered in {wall:.2f} s wall, {cpu:.2f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://fugong@127.0.0.1:54329")
    args = parser.parse_args()
    with databases.scratch(args.database_url, SCRATCH_DB) as database_url:
        engine = make_engine(database_url, pool_size=RACERS // 2)
        try:
            with engine.begin() as connection:
                seed.seed(connection)
                zone = connection.execute(
                    text(
                        "SELECT zone_id FROM account_zone JOIN account ON account.id = account_id"
                        " WHERE username = 'inspector'"
                    )
                ).scalar_one()
            print("| pull | runs | wall ms (median / max) | CPU ms (median) |")
            print("|---|---:|---:|---:|")
            for line in [*geo_pulls(engine, zone), *graphql_pulls(engine, zone)]:
                print(line)
            print()
            print(racing_pulls(engine, zone))
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
