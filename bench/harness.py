"""Throughput of fugong against a raw-SQL baseline and PostGraphile, per table size (issue 6).

`python -m bench.harness [--sizes 10000,100000,1000000] [--seconds 10]`: seeds (or reuses) one
database per size, starts each server in turn on a free loopback port, checks every scenario
answers, drives it with wrk, prints the tables and writes them into BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench import databases, load, report, scenarios, servers
from bench.load import Request, Result
from bench.scenarios import Scenario, Zone
from geo.routing.plan import TIME_LIMIT_S

CHECK_TIMEOUT_S = 60.0
WARM_UP_REQUESTS = 3
MIX_CONNECTIONS = 50
# A solve's time and memory grow with the square of the targets due: 100 take the solver's
# 0.8 s and ~150 MB, 6,000 (about the fewest in a zone at 1,000,000 enterprises) ~9 s and ~2 GB.
# A zone with more than MAX_PULLED_DUE is not pulled at all (the demo inspector's zone, the
# densest, holds ~700 targets at 10,000 enterprises, ~8,000 at 100,000 and so ~80,000 at
# 1,000,000: tens of GB); one whose every pull solves (no stored plan kept) is not loaded
# above MAX_SOLVED_DUE, as the load would run several solves at once.
MAX_PULLED_DUE = 8000
MAX_SOLVED_DUE = 1000
MIX_TITLE = (
    f"(g) mixed: (a)–(f) in turn as the demo inspector and town officer, "
    f"{MIX_CONNECTIONS} connections"
)
PLOT = report.ROOT / "bench" / "throughput"  # .csv and .png
SCRATCH_PLOT = servers.LOGS.parent / "throughput"  # with --no-write: git-ignored


def login(base_url: str, username: str = "district") -> str:
    query = f'mutation {{ login(username: "{username}", password: "demo") }}'
    answer = httpx.post(base_url + "/graphql", json={"query": query}, timeout=CHECK_TIMEOUT_S)
    return str(answer.json()["data"]["login"])


def check(
    base_url: str, request: Request, times: int = WARM_UP_REQUESTS
) -> tuple[str | None, list[float]]:
    """Why the request fails (None when it answers), and the seconds each pull took: each server
    must answer every scenario before load."""
    headers = {"content-type": "application/json"}
    if request.authorization:
        headers["authorization"] = request.authorization
    took: list[float] = []
    for _ in range(times):
        began = time.perf_counter()
        try:
            answer = httpx.request(
                request.method,
                base_url + request.path,
                content=request.body,
                headers=headers,
                timeout=CHECK_TIMEOUT_S,
            )
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}", took
        took.append(time.perf_counter() - began)
        if answer.status_code != 200 or answer.content[:64].find(b'"errors"') >= 0:
            return f"HTTP {answer.status_code}: {answer.text[:300]}", took
    return None, took


def drive(
    base_url: str,
    name: str,
    title: str,
    requests: list[Request],
    seconds: int,
    connections: int = load.CONNECTIONS,
) -> Result | str:
    try:
        result = load.drive(base_url, requests, seconds, connections)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"    {name:12} {title[:60]}: wrk FAILS {error}")
        return "fails (see log)"
    print(
        f"    {name:12} {title[:60]:60} {result.requests_per_s:8.1f} req/s "
        f"p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms err {result.errors}"
    )
    return result


def measure(
    base_url: str, name: str, requests: dict[str, Request | str], seconds: int
) -> dict[str, Result | str]:
    """Each scenario checked, then loaded; a string instead of a request says why there is none."""
    found: dict[str, Result | str] = {}
    for title, request in requests.items():
        if isinstance(request, str):
            found[title] = request
            continue
        failure, _ = check(base_url, request)
        if failure is not None:
            print(f"    {name:12} {title[:60]}: FAILS {failure}")
            found[title] = "fails (see log)"
            continue
        found[title] = drive(base_url, name, title, [request], seconds)
    return found


def pulls(
    base_url: str, database_url: str, request: Request, zone: Zone
) -> tuple[str, str | None, int | None]:
    """Three pulls of one zone's plan, timed, with fugong's count of solves before and after:
    a note on them, why not to load it (None: load it), and the count after."""
    if zone.due > MAX_PULLED_DUE:
        note = f"PatrolZone:{zone.id}, {zone.due} targets due: not pulled (over {MAX_PULLED_DUE})"
        return note, "not pulled", None
    before = scenarios.solves(database_url, zone)
    failure, took = check(base_url, request)
    if failure is not None:
        return f"PatrolZone:{zone.id}: {failure[:300]}", "fails (see log)", None
    after = scenarios.solves(database_url, zone)
    note = (
        f"PatrolZone:{zone.id}, {zone.due} targets due; pulls before the load: the first "
        f"{took[0] * 1000:.0f} ms, the next two {statistics.median(took[1:]) * 1000:.0f} ms"
    )
    if before is None or after is None:
        note += "; this build stores no plans, so every pull solves"
    else:
        note += f", fugong solving the plan {after - before} times in the three"
    # The first pull solves unless a plan is stored; the next two solve only if none is kept.
    every_pull_solves = before is None or after is None or after - before > 1
    if every_pull_solves and zone.due > MAX_SOLVED_DUE:
        return f"{note}; not loaded, each pull solving {zone.due} targets", "not loaded", None
    return note, None, after


def solved_during(database_url: str, zone: Zone, since: int | None, found: Result | str) -> str:
    """What the load measured: pulls of a stored plan, or solves."""
    now = scenarios.solves(database_url, zone)
    if since is None or now is None or not isinstance(found, Result):
        return ""
    solved = now - since
    kind = "every pull reused the stored plan" if solved == 0 else "the load measured solves"
    return f"; during the load ({found.requests} requests) {solved} times: {kind}"


def route(
    base_url: str, database_url: str, request: Request, zone: Zone, seconds: int
) -> tuple[Result | str, str]:
    """(f): one zone and day pulled again and again, as its inspectors do at 8 a.m."""
    note, refused, since = pulls(base_url, database_url, request, zone)
    found = refused or drive(base_url, "fugong", "(f) inspectionRoute", [request], seconds)
    note += solved_during(database_url, zone, since, found)
    print(f"    fugong       (f) {note}")
    return found, note + "."


def mix(
    base_url: str,
    database_url: str,
    bbox: list[float],
    tokens: dict[str, str],
    zone: Zone,
    seconds: int,
) -> tuple[Result | str, str]:
    """(g): every scenario as each role in turn, each request answered once first as its role."""
    inspector = scenarios.all_scenarios(bbox, tokens[scenarios.MIX_ROLES[0]], zone)[-1]
    note, refused, since = pulls(base_url, database_url, inspector.fugong, zone)
    requests = scenarios.mixed(bbox, tokens, None if refused else zone)
    for request in requests:
        failure, _ = check(base_url, request, times=1)
        if failure is not None:
            body = (request.body or b"")[:120].decode(errors="replace")
            print(f"    fugong       (g) {request.path} {body}: FAILS {failure}")
            return "fails (see log)", f"{request.path} {body}: {failure[:300]}"
    found = drive(base_url, "fugong", MIX_TITLE, requests, seconds, MIX_CONNECTIONS)
    note += solved_during(database_url, zone, since, found)
    print(f"    fugong       (g) the inspector's route: {note}")
    remark = (
        f"{len(requests)} requests in turn, half as each role, each checked first (HTTP 200, "
        f"no errors) as its role; the route is the demo inspector's zone, {note}."
    )
    return found, remark


def run_fugong(
    database_url: str, bbox: list[float], zone: Zone, own: Zone, seconds: int, only: str
) -> tuple[list[Scenario], dict[str, Result | str], dict[str, str]]:
    """The scenarios whose letter is in `only`: (a)–(e), then (f) and (g)."""
    notes: dict[str, str] = {}
    with servers.fugong(database_url) as running:
        url = running.base_url
        tokens = {role: login(url, role) for role in ("district", *scenarios.MIX_ROLES)}
        *chosen, last = scenarios.all_scenarios(bbox, tokens["district"], zone)
        chosen = [s for s in chosen if s.title[1] in only]
        found = measure(url, "fugong", {s.title: s.fugong for s in chosen}, seconds)
        if "f" in only:
            found[last.title], notes[last.title] = route(
                url, database_url, last.fugong, zone, seconds
            )
            chosen.append(last)
        if "g" in only:
            found[MIX_TITLE], notes[MIX_TITLE] = mix(url, database_url, bbox, tokens, own, seconds)
    return chosen, found, notes


def run_size(
    server_url: str, size: int, seconds: int, postgraphile: str | None, only: str
) -> tuple[dict[str, dict[str, Result | str]], dict[str, Any], dict[str, str]]:
    print(f"{size:,} enterprises")
    database_url = databases.ensure(server_url, size)
    bbox, count = scenarios.viewport(database_url)
    zone, own = scenarios.route_zone(database_url), scenarios.inspector_zone(database_url)
    print(
        f"  viewport {bbox} holds {count} enterprises; on {scenarios.ROUTE_DAY} "
        f"PatrolZone:{zone.id} has {zone.due} targets due, the demo inspector's "
        f"PatrolZone:{own.id} {own.due}"
    )
    by_server: dict[str, dict[str, Result | str]] = {}
    chosen, by_server["fugong"], remarks = run_fugong(database_url, bbox, zone, own, seconds, only)
    spec = {s.name: s.spec for s in chosen}
    with servers.baseline(database_url, spec) as running:
        by_server["raw"] = measure(
            running.base_url, "raw", {s.title: s.raw for s in chosen}, seconds
        )
    if postgraphile is None:
        try:
            with servers.postgraphile(database_url) as running:
                by_server["postgraphile"] = measure(
                    running.base_url,
                    "postgraphile",
                    {s.title: s.postgraphile or "no equivalent" for s in chosen},
                    seconds,
                )
        except RuntimeError as error:
            postgraphile = f"did not start: {error}"
    if postgraphile is not None:
        print(f"  PostGraphile left out: {postgraphile}")
        by_server["postgraphile"] = {s.title: "left out" for s in chosen}
    rows = {
        title: {name: found.get(title, "no equivalent") for name, found in by_server.items()}
        for title in by_server["fugong"]
    }
    notes = {
        "bbox": bbox,
        "features": count,
        "zone": zone.id,
        "due": zone.due,
        "inspector_zone": own.id,
        "inspector_due": own.due,
        "postgraphile": postgraphile,
    }
    return rows, notes, remarks


def preamble(args: argparse.Namespace, notes: dict[int, dict[str, Any]]) -> list[str]:
    command = f".venv/bin/python -m bench.harness --sizes {args.sizes} --seconds {args.seconds}"
    viewports = "; ".join(
        f"{size:,}: bbox {n['bbox']} ({n['features']} features)" for size, n in notes.items()
    )
    zones = "; ".join(
        f"{size:,}: PatrolZone:{n['zone']} ({n['due']} due; the demo inspector's "
        f"PatrolZone:{n['inspector_zone']} {n['inspector_due']})"
        for size, n in notes.items()
    )
    left_out = {n["postgraphile"] for n in notes.values() if n["postgraphile"]}
    return [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on host {platform.node()!r}: "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL 15 + PostGIS on the same machine, "
        "loopback only. Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"wrk {load.THREADS} threads, {load.CONNECTIONS} connections, {args.seconds} s per "
        "scenario after 3 checked requests, on the same 2 cores as the servers and the database. "
        f"Each server runs alone, with {servers.WORKERS} processes: fugong `fugong serve --workers "
        f"{servers.WORKERS}`; raw `bench/baseline.py` (Starlette + uvicorn, psycopg2 pool, one "
        "statement per request compiled from geo's own query builders, JSON or MVT built by "
        "PostgreSQL and passed through as bytes); PostGraphile 4 with @graphile/postgis and the "
        f"PostGIS connection filter, `--cluster-workers {servers.WORKERS}` (it is one process "
        "by default). fugong is called as the demo `district` officer (a Bearer token from "
        "`login`); raw and PostGraphile run unauthenticated but read the same rows (the "
        "district officer's scope adds no clause). PostGraphile gets (a) as the typed "
        "`allEnterprises(filter: {geom: {intersects}})` with the same columns, since it has no "
        "FeatureCollection; it has no equivalent of (c) ST_DWithin, (d), (e), (f) or (g). Errors "
        "count non-200 answers, GraphQL `errors`, socket errors and timeouts (10 s).",
        "",
        "(f) pulls the plan of one zone and day again and again, as a zone's inspectors all do "
        "at 8 a.m.: fugong answers `inspectionRoute` (who is due, a stored plan or the solver, "
        "GraphQL); raw runs only the SQL it needs, geo.due's statement of the zone's targets, "
        "as JSON rows, so fugong/raw is what planning costs beyond SQL. The line under each (f) "
        "and (g) table says which the load measured: how often fugong solved the plan (its "
        "`route_plan.solves`) in three pulls before the load and during it; 0 during it means "
        f"every pull reused the stored plan. A solve takes the solver's {TIME_LIMIT_S} s limit "
        f"and more; a zone solved on every pull is not loaded above {MAX_SOLVED_DUE} targets due. "
        f"(g) sends fugong's requests of (a)–(f) in turn with {MIX_CONNECTIONS} connections, "
        "alternately as the demo inspector (their zone, where the viewport, point and tiles are "
        "centred) and the demo town officer (金峰镇, which holds the zone), so every scope clause "
        "runs; its route is the inspector's own zone. Raw and PostGraphile have no accounts, "
        "so no (g).",
        "",
        f"Viewports (~{scenarios.TARGET_FEATURES} features around {scenarios.CENTRE}): "
        f"{viewports}.",
        "",
        f"Route zones (targets due on {scenarios.ROUTE_DAY} by geo.due's rules, nearest "
        f"{scenarios.TARGET_DUE}): {zones}.",
        "",
        *(f"PostGraphile left out: {reason}\n" for reason in sorted(left_out)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--server",
        default=databases.DEFAULT_SERVER,
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument(
        "--only",
        default="abcdefg",
        help="the scenarios to run, by letter: `--only f` for the stored route plan alone",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="leave BENCHMARKS.md and the plot as they are (the plot goes to bench/.cache)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in logs
    if not load.available():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    postgraphile = "--no-postgraphile" if args.no_postgraphile else servers.install_postgraphile()
    results: report.Results = {}
    notes: dict[int, dict[str, Any]] = {}
    remarks: report.Remarks = {}
    started = time.monotonic()
    for size in (int(s) for s in args.sizes.split(",")):
        results[size], notes[size], remarks[size] = run_size(
            args.server, size, args.seconds, postgraphile, args.only
        )
    lines = report.markdown(results, remarks)
    print("\n".join(lines))
    written = report.latency_by_size(results, SCRATCH_PLOT if args.no_write else PLOT)
    print(f"done in {time.monotonic() - started:.0f} s; wrote {', '.join(map(str, written))}")
    if not args.no_write:
        plot = ", ".join(f"`{Path(p).relative_to(report.ROOT)}`" for p in written)
        report.write_section(
            preamble(args, notes) + lines + [f"p50 of each scenario by table size: {plot}."]
        )
    print(json.dumps({str(k): v for k, v in notes.items()}))


if __name__ == "__main__":
    main()
