"""Throughput of fugong against a raw-SQL baseline and PostGraphile, per table size (issue 6).

`python -m bench.harness [--sizes 10000,100000] [--seconds 10]`: seeds (or reuses) one database
per size, starts each server in turn on a free loopback port, checks every scenario answers,
drives it with wrk, prints the tables and writes them into BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench import databases, load, report, scenarios, servers
from bench.load import Request, Result

CHECK_TIMEOUT_S = 60.0
WARM_UP_REQUESTS = 3
PLOT = report.ROOT / "bench" / "throughput_a"


def login(base_url: str) -> str:
    query = 'mutation { login(username: "district", password: "demo") }'
    answer = httpx.post(base_url + "/graphql", json={"query": query}, timeout=CHECK_TIMEOUT_S)
    return str(answer.json()["data"]["login"])


def check(base_url: str, request: Request) -> str | None:
    """Why the request fails, or None: each server must answer every scenario before load."""
    headers = {"content-type": "application/json"}
    if request.authorization:
        headers["authorization"] = request.authorization
    for _ in range(WARM_UP_REQUESTS):
        answer = httpx.request(
            request.method,
            base_url + request.path,
            content=request.body,
            headers=headers,
            timeout=CHECK_TIMEOUT_S,
        )
        if answer.status_code != 200 or answer.content[:64].find(b'"errors"') >= 0:
            return f"HTTP {answer.status_code}: {answer.text[:300]}"
    return None


def measure(
    server: AbstractContextManager[servers.Server],
    name: str,
    requests: dict[str, Request | None],
    seconds: int,
) -> dict[str, Result | str]:
    found: dict[str, Result | str] = {}
    with server as running:
        for title, request in requests.items():
            if request is None:
                found[title] = "no equivalent"
                continue
            failure = check(running.base_url, request)
            if failure is not None:
                print(f"    {name:12} {title[:60]}: FAILS {failure}")
                found[title] = "fails (see log)"
                continue
            result = load.drive(running.base_url, request, seconds)
            found[title] = result
            print(
                f"    {name:12} {title[:60]:60} {result.requests_per_s:8.1f} req/s "
                f"p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms err {result.errors}"
            )
    return found


def run_size(
    server_url: str, size: int, seconds: int, postgraphile: str | None
) -> tuple[dict[str, dict[str, Result | str]], dict[str, Any]]:
    print(f"{size:,} enterprises")
    database_url = databases.ensure(server_url, size)
    bbox, count = scenarios.viewport(database_url)
    print(f"  viewport {bbox} holds {count} enterprises")
    by_server: dict[str, dict[str, Result | str]] = {}
    fugong = servers.fugong(database_url)
    with fugong as running:
        token = login(running.base_url)
    chosen = scenarios.all_scenarios(bbox, token)
    spec = {s.name: s.spec for s in chosen}
    by_server["fugong"] = measure(
        servers.fugong(database_url), "fugong", {s.title: s.fugong for s in chosen}, seconds
    )
    by_server["raw"] = measure(
        servers.baseline(database_url, spec), "raw", {s.title: s.raw for s in chosen}, seconds
    )
    if postgraphile is None:
        try:
            by_server["postgraphile"] = measure(
                servers.postgraphile(database_url),
                "postgraphile",
                {s.title: s.postgraphile for s in chosen},
                seconds,
            )
        except RuntimeError as error:
            postgraphile = f"did not start: {error}"
    if postgraphile is not None:
        print(f"  PostGraphile left out: {postgraphile}")
        by_server["postgraphile"] = {s.title: "left out" for s in chosen}
    rows = {s.title: {name: by_server[name][s.title] for name in by_server} for s in chosen}
    return rows, {"bbox": bbox, "features": count, "postgraphile": postgraphile}


def preamble(args: argparse.Namespace, notes: dict[int, dict[str, Any]]) -> list[str]:
    command = f".venv/bin/python -m bench.harness --sizes {args.sizes} --seconds {args.seconds}"
    viewports = "; ".join(
        f"{size:,}: bbox {n['bbox']} ({n['features']} features)" for size, n in notes.items()
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
        "FeatureCollection; it has no equivalent of (c) ST_DWithin, (d) or (e). Errors count "
        "non-200 answers, GraphQL `errors` and socket errors.",
        "",
        f"Viewports (~{scenarios.TARGET_FEATURES} features around {scenarios.CENTRE}): "
        f"{viewports}.",
        "",
        *(f"PostGraphile left out: {reason}\n" for reason in sorted(left_out)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--server",
        default=databases.DEFAULT_SERVER,
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in logs
    if not load.available():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    postgraphile = "--no-postgraphile" if args.no_postgraphile else servers.install_postgraphile()
    results: report.Results = {}
    notes: dict[int, dict[str, Any]] = {}
    started = time.monotonic()
    for size in (int(s) for s in args.sizes.split(",")):
        results[size], notes[size] = run_size(args.server, size, args.seconds, postgraphile)
    lines = report.markdown(results)
    print("\n".join(lines))
    written = report.latency_by_size(results, "(a)", PLOT)
    print(f"done in {time.monotonic() - started:.0f} s; wrote {', '.join(map(str, written))}")
    if not args.no_write:
        plot = ", ".join(f"`{Path(p).relative_to(report.ROOT)}`" for p in written)
        report.write_section(preamble(args, notes) + lines + [f"p50 of (a) by table size: {plot}."])
    print(json.dumps({str(k): v for k, v in notes.items()}))


if __name__ == "__main__":
    main()
