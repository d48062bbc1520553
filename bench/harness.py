"""Throughput of fugong against a raw-SQL baseline, PostGraphile and tipg, per table size
(issues 6, 14 and 18), in one run and one table format.

`python -m bench.harness [--sizes 10000,100000,1000000] [--seconds 10] [--scenarios a,b,j]
[--login-flood 20]`: seeds (or reuses) one database per size, starts each server in turn on a
free loopback port, checks every scenario answers (and how many bytes), drives it with wrk,
reads the RSS of fugong's workers after each size, prints the tables and writes them into
BENCHMARKS.md."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import psycopg2

from bench import databases, load, login_flood, report, scenarios, servers, statements
from bench.load import Request, Result
from bench.scenarios import Scenario, Zone
from geo.db import libpq_url
from geo.routing.plan import TIME_LIMIT_S

CHECK_TIMEOUT_S = 60.0
WARM_UP_REQUESTS = 3
MIX_CONNECTIONS = (50, 200)
LETTERS = "abcdefghij"
# A solve's time and memory grow with the square of the targets due: 100 take the solver's
# 0.8 s and ~150 MB, 6,000 (about the fewest in a zone at 1,000,000 enterprises) ~9 s and ~2 GB.
# A zone with more than MAX_PULLED_DUE is not pulled at all (the demo inspector's zone, the
# densest, holds ~700 targets at 10,000 enterprises, ~8,000 at 100,000 and so ~80,000 at
# 1,000,000: tens of GB); one whose every pull solves (no stored plan kept) is not loaded
# above MAX_SOLVED_DUE, as the load would run several solves at once.
MAX_PULLED_DUE = 8000
MAX_SOLVED_DUE = 1000


def mix_title(connections: int) -> str:
    return (
        f"(g) mixed: (a)–(f) in turn as the demo inspector and town officer, "
        f"{connections} connections"
    )


PLOT = report.ROOT / "bench" / "throughput"  # .csv and .png
SCRATCH_PLOT = servers.LOGS.parent / "throughput"  # with --no-write: git-ignored


def login(base_url: str, username: str = "district") -> str:
    query = f'mutation {{ login(username: "{username}", password: "demo") }}'
    answer = httpx.post(base_url + "/graphql", json={"query": query}, timeout=CHECK_TIMEOUT_S)
    return str(answer.json()["data"]["login"])


def check(
    base_url: str, request: Request, times: int = WARM_UP_REQUESTS
) -> tuple[str | None, list[float], int]:
    """Why the request fails (None when it answers), the seconds each pull took and the bytes
    of the last answer: each server must answer every scenario before load."""
    headers = {"content-type": "application/json"}
    if request.authorization:
        headers["authorization"] = request.authorization
    took: list[float] = []
    size = 0
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
            return f"{type(error).__name__}: {error}", took, size
        took.append(time.perf_counter() - began)
        if answer.status_code != 200 or answer.content[:64].find(b'"errors"') >= 0:
            return f"HTTP {answer.status_code}: {answer.text[:300]}", took, size
        size = len(answer.content)
    return None, took, size


ACTIVE = (
    "FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
    " AND pid <> pg_backend_pid()"
)


QUIET = 0.15  # of the machine's CPU time, over half a second: what counts as idle


def settled(database_url: str, most_s: float = 60.0) -> None:
    """Waits until the machine is idle and nothing runs in the database, and after `most_s`
    cancels the statements still running: when a scenario's requests time out, wrk gives up
    on them but the server works on (statements, a chart drawn in Python), and that would load
    the next scenario's measurement (the briefing's at 100,000 once halved the OGC scenario
    after it)."""
    connection = psycopg2.connect(libpq_url(database_url))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            deadline = time.monotonic() + most_s
            while time.monotonic() < deadline:
                cursor.execute(f"SELECT count(*) {ACTIVE}")  # noqa: S608 (constant SQL)
                if cursor.fetchone()[0] == 0 and _busy_share(0.5) < QUIET:
                    return
            cursor.execute(f"SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) {ACTIVE}")  # noqa: S608
            print(f"    not idle after {most_s:.0f} s: cancelled {cursor.fetchone()[0]} statements")
            time.sleep(1.0)
    finally:
        connection.close()


def _busy_share(seconds: float) -> float:
    """The share of the machine's CPU time spent working over the next `seconds`."""

    def times() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields) - idle, sum(fields)

    busy_before, total_before = times()
    time.sleep(seconds)
    busy_after, total_after = times()
    return (busy_after - busy_before) / max(1, total_after - total_before)


def drive(
    base_url: str,
    database_url: str,
    name: str,
    title: str,
    requests: list[Request],
    seconds: int,
    connections: int = load.CONNECTIONS,
    body_bytes: int | None = None,
) -> Result | str:
    settled(database_url)
    try:
        result = load.drive(base_url, requests, seconds, connections)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"    {name:12} {title[:60]}: wrk FAILS {error}")
        return "fails (see log)"
    if not result.requests:
        print(f"    {name:12} {title[:60]}: no answer within {seconds} s")
        return f"no answer within {seconds} s"
    result = dataclasses.replace(result, body_bytes=body_bytes)
    print(
        f"    {name:12} {title[:60]:60} {result.requests_per_s:8.1f} req/s "
        f"p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms err {result.errors}"
        f" {body_bytes or '–'} B"
    )
    return result


def measure(
    base_url: str,
    database_url: str,
    name: str,
    requests: dict[str, Request | str],
    seconds: int,
) -> dict[str, Result | str]:
    """Each scenario checked, then loaded; a string instead of a request says why there is none."""
    found: dict[str, Result | str] = {}
    for title, request in requests.items():
        if isinstance(request, str):
            found[title] = request
            continue
        failure, _, size = check(base_url, request)
        if failure is not None:
            print(f"    {name:12} {title[:60]}: FAILS {failure}")
            found[title] = "fails (see log)"
            continue
        found[title] = drive(
            base_url, database_url, name, title, [request], seconds, body_bytes=size
        )
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
    failure, took, size = check(base_url, request)
    if failure is not None:
        return f"PatrolZone:{zone.id}: {failure[:300]}", "fails (see log)", None
    after = scenarios.solves(database_url, zone)
    note = (
        f"PatrolZone:{zone.id}, {zone.due} targets due ({size:,} bytes); pulls before the load: "
        f"the first {took[0] * 1000:.0f} ms, the next two "
        f"{statistics.median(took[1:]) * 1000:.0f} ms"
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
    found = refused or drive(
        base_url, database_url, "fugong", "(f) inspectionRoute", [request], seconds
    )
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
    connections: int,
) -> tuple[Result | str, str]:
    """(g): every scenario as each role in turn, each request answered once first as its role."""
    inspector = scenarios.all_scenarios(bbox, tokens[scenarios.MIX_ROLES[0]], zone)
    [route_of] = [s.fugong for s in inspector if s.letter == "f"]
    note, refused, since = pulls(base_url, database_url, route_of, zone)
    requests = scenarios.mixed(bbox, tokens, None if refused else zone)
    for request in requests:
        failure, _, _ = check(base_url, request, times=1)
        if failure is not None:
            body = (request.body or b"")[:120].decode(errors="replace")
            print(f"    fugong       (g) {request.path} {body}: FAILS {failure}")
            return "fails (see log)", f"{request.path} {body}: {failure[:300]}"
    found = drive(
        base_url, database_url, "fugong", mix_title(connections), requests, seconds, connections
    )
    note += solved_during(database_url, zone, since, found)
    print(f"    fugong       (g) the inspector's route: {note}")
    remark = (
        f"{len(requests)} requests in turn, half as each role, each checked first (HTTP 200, "
        f"no errors) as its role; the route is the demo inspector's zone, {note}."
    )
    return found, remark


@dataclasses.dataclass(frozen=True)
class Sized:
    """One size's database and what the scenarios are centred on."""

    size: int
    database_url: str
    bbox: list[float]
    features: int
    zone: Zone | None  # (f)'s zone, None when neither (f) nor (g) runs
    own: Zone | None  # the demo inspector's, for (g)


def run_fugong(
    sized: Sized, letters: str, seconds: int
) -> tuple[list[Scenario], dict[str, Result | str], dict[str, str], dict[int, float]]:
    """fugong's side of every scenario chosen, and its workers' RSS (MB) after them."""
    remarks: dict[str, str] = {}
    with servers.fugong(sized.database_url) as running:
        url, database_url = running.base_url, sized.database_url
        tokens = {role: login(url, role) for role in ("district", *scenarios.MIX_ROLES)}
        every = scenarios.all_scenarios(sized.bbox, tokens["district"], sized.zone)
        chosen = [s for s in every if s.letter in letters]
        alone = {s.title: s.fugong for s in chosen if s.letter != "f"}
        found = measure(url, database_url, "fugong", alone, seconds)
        for briefed in (s for s in chosen if s.name == "i_briefing"):
            sent = statements.briefing_sent(database_url, *briefed.spec[1:])  # type: ignore[index]
            remarks[briefed.title] = (
                f"geo.briefing sends {len(sent)} statements for it; raw runs them in one."
            )
        for route_of in (s for s in chosen if s.letter == "f"):
            assert sized.zone is not None
            found[route_of.title], remarks[route_of.title] = route(
                url, database_url, route_of.fugong, sized.zone, seconds
            )
        if "g" in letters:
            assert sized.own is not None
            for connections in MIX_CONNECTIONS:
                title = mix_title(connections)
                found[title], remarks[title] = mix(
                    url, database_url, sized.bbox, tokens, sized.own, seconds, connections
                )
        rss = servers.worker_rss_mb(running)
        restarted = servers.restarts(running)
    print(f"    fugong       workers' RSS after the run: {report.megabytes(rss)}")
    if restarted:
        print(f"    fugong       {restarted} workers died or hung and were replaced: see the log")
        remarks[""] = f"{restarted} fugong workers died or hung during this size's run."
    return chosen, found, remarks, rss


def run_others(
    sized: Sized, chosen: list[Scenario], seconds: int, postgraphile: str | None
) -> dict[str, dict[str, Result | str]]:
    """raw, PostGraphile and tipg on the scenarios they have an equivalent of."""
    database_url = sized.database_url
    by_server: dict[str, dict[str, Result | str]] = {}
    spec = {s.name: s.spec for s in chosen if s.spec is not None}
    if spec:
        with servers.baseline(database_url, spec) as running:
            by_server["raw"] = measure(
                running.base_url,
                database_url,
                "raw",
                {s.title: s.raw if s.spec is not None else "no equivalent" for s in chosen},
                seconds,
            )
    others = {
        "postgraphile": ({s.title: s.postgraphile for s in chosen}, servers.postgraphile),
        "tipg": ({s.title: s.tipg for s in chosen}, servers.tipg),
    }
    for name, (requests, start) in others.items():
        if not any(requests.values()):
            continue
        left_out = postgraphile if name == "postgraphile" else None
        if left_out is None:
            try:
                with start(database_url) as running:
                    by_server[name] = measure(
                        running.base_url,
                        database_url,
                        name,
                        {t: r or "no equivalent" for t, r in requests.items()},
                        seconds,
                    )
                continue
            except RuntimeError as error:
                left_out = f"did not start: {error}"
        print(f"  {name} left out: {left_out}")
        by_server[name] = {t: f"left out: {left_out}" for t, r in requests.items() if r}
    return by_server


def sized_up(server: str, size: int, letters: str) -> Sized:
    print(f"{size:,} enterprises")
    database_url = databases.ensure(server, size)
    bbox, count = scenarios.viewport(database_url)
    zone = own = None
    if set(letters) & set("fg"):
        zone, own = scenarios.route_zone(database_url), scenarios.inspector_zone(database_url)
        print(
            f"  on {scenarios.ROUTE_DAY} PatrolZone:{zone.id} has {zone.due} targets due, "
            f"the demo inspector's PatrolZone:{own.id} {own.due}"
        )
    print(f"  viewport {bbox} holds {count} enterprises")
    return Sized(size, database_url, bbox, count, zone, own)


def run_size(
    sized: Sized, letters: str, seconds: int, postgraphile: str | None
) -> tuple[dict[str, dict[str, Result | str]], dict[str, str], dict[int, float]]:
    chosen, fugong, remarks, rss = run_fugong(sized, letters, seconds)
    by_server = {"fugong": fugong, **run_others(sized, chosen, seconds, postgraphile)}
    rows = {
        title: {name: found.get(title, "no equivalent") for name, found in by_server.items()}
        for title in fugong
    }
    return rows, remarks, rss


def configuration(seconds: int) -> list[str]:
    """Every server's configuration and what each scenario asks of it, for the report."""
    workers, pool = servers.WORKERS, servers.POOL_SIZE
    mixes = " and ".join(map(str, MIX_CONNECTIONS))
    return [
        f"wrk {load.THREADS} threads, {load.CONNECTIONS} connections ((g): {mixes}), {seconds} s "
        f"per scenario after {WARM_UP_REQUESTS} checked requests (HTTP 200, no `errors`; the "
        "bytes column is the last checked answer's body), on the same 2 cores as the servers and "
        "the database. Each server runs alone, with "
        f"{workers} processes and {pool} database connections per process: fugong `fugong serve "
        f"--workers {workers}` (FUGONG_POOL_SIZE={pool}, which SQLAlchemy may overflow to "
        f"{2 * pool}; access log off), connecting as the serving role under row-level security; "
        "raw `bench/baseline.py` (Starlette + uvicorn "
        f"`--workers {workers}`, a psycopg2 pool of {pool}, one statement per request compiled "
        "from geo's own query builders, JSON or MVT built by PostgreSQL and passed through as "
        "bytes); PostGraphile 4 with @graphile/postgis and the PostGIS connection filter, "
        f"`--cluster-workers {workers} --max-pool-size {pool}`; tipg "
        f"{importlib.metadata.version('tipg')} under uvicorn `--workers {workers}` "
        f"(TIPG_DB_MAX_CONN_SIZE={pool}, TIPG_MAX_FEATURES_PER_QUERY=10000). Raw, PostGraphile "
        "and tipg connect as the database owner. fugong is called as the demo `district` officer "
        "(a Bearer token from `login`), but for (j); raw and PostGraphile run unauthenticated "
        "but read the same rows (the district officer's scope adds no clause). PostGraphile gets "
        "(a) as the typed `allEnterprises(filter: {geom: {intersects}})` with the same columns, "
        "since it has no FeatureCollection; it has no equivalent of (c) ST_DWithin or of (d) to "
        "(j). Errors count non-200 answers, GraphQL `errors`, socket errors and timeouts (10 s).",
        "",
        "(f) pulls the plan of one zone and day again and again, as a zone's inspectors all do "
        "at 8 a.m.: fugong answers `inspectionRoute` (who is due, a stored plan or the solver, "
        "GraphQL); raw runs only the SQL it needs, geo.due's statement of the zone's targets, "
        "as JSON rows, so fugong/raw is what planning costs beyond SQL. The line under each (f) "
        "and (g) table says which the load measured: how often fugong solved the plan (its "
        "`route_plan.solves`) in three pulls before the load and during it; 0 during it means "
        f"every pull reused the stored plan. A solve takes the solver's {TIME_LIMIT_S} s limit "
        f"and more; a zone solved on every pull is not loaded above {MAX_SOLVED_DUE} targets due. "
        f"(g) sends fugong's requests of (a)–(f) in turn with {mixes} connections, "
        "alternately as the demo inspector (their zone, where the viewport, point and tiles are "
        "centred) and the demo town officer (金峰镇, which holds the zone), so every scope clause "
        "runs; its route is the inspector's own zone. Raw and PostGraphile have no accounts, "
        "so no (g).",
        "",
        f"(h) is (e)'s tiles as /map asks for them over a base map in {scenarios.MAP_CRS} "
        "(`?crs=GCJ02`, FUGONG_BASEMAP_CRS): raw builds the same tile with geo.tiles' statement "
        "each time, while fugong keeps built tiles in tile_cache (the TileJSON the map reads "
        "first is not measured). (i) is the district officer's `dailyBriefing` of "
        f"{scenarios.BRIEFING_AREA} on {scenarios.ROUTE_DAY} (every field, the officers' "
        "restricted ones too): raw runs, in one statement, every statement geo.briefing sends "
        "for it (recorded from a run: the line under its table says how many) and answers how "
        "many rows each returned (`count(r)`: every row built whole, none sent), so fugong/raw "
        "is what the briefing costs beyond executing its SQL, and its bytes differ; the chart "
        "(SVG, matplotlib) is fugong's alone. (j) "
        "is OGC API – Features, anonymous everywhere (tipg has no accounts): raw runs /ogc's "
        "own statement (geo.features.items: the page, numberMatched and numberReturned in one) "
        "and joins the FeatureCollection in PostgreSQL, without /ogc's links and timeStamp; "
        "tipg serves `public.enterprise` with the same properties where it has them (no "
        "areaCode) and its own links.",
        "",
        "RSS: VmRSS of each fugong worker process (/proc/<pid>/status), read after that size's "
        "scenarios, before the server stops.",
    ]


def preamble(args: argparse.Namespace, sized: list[Sized], letters: str) -> list[str]:
    command = (
        f".venv/bin/python -m bench.harness --sizes {args.sizes} --seconds {args.seconds}"
        + (f" --scenarios {args.scenarios}" if args.scenarios != ",".join(LETTERS) else "")
        + (f" --login-flood {args.login_flood}" if args.login_flood else "")
    )
    viewports = "; ".join(f"{s.size:,}: bbox {s.bbox} ({s.features} features)" for s in sized)
    zones = "; ".join(
        f"{s.size:,}: PatrolZone:{s.zone.id} ({s.zone.due} due; the demo inspector's "
        f"PatrolZone:{s.own.id} {s.own.due})"
        for s in sized
        if s.zone is not None and s.own is not None
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on host {platform.node()!r}: "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL 15 + PostGIS on the same machine, "
        "loopback only. Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        *configuration(args.seconds),
        "",
        f"Viewports (~{scenarios.TARGET_FEATURES} features around {scenarios.CENTRE}): "
        f"{viewports}.",
        "",
    ]
    if zones:
        lines += [
            f"Route zones (targets due on {scenarios.ROUTE_DAY} by geo.due's rules, nearest "
            f"{scenarios.TARGET_DUE}): {zones}.",
            "",
        ]
    return lines


def letters_of(text: str) -> str:
    chosen = "".join(part.strip() for part in text.split(","))
    unknown = set(chosen) - set(LETTERS)
    if unknown or not chosen:
        raise SystemExit(f"--scenarios takes letters of {LETTERS}, such as a,b,j")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--scenarios",
        default=",".join(LETTERS),
        help="the scenarios to run, by letter (default: every one, a to j)",
    )
    parser.add_argument(
        "--login-flood",
        type=int,
        default=0,
        metavar="SECONDS",
        help="after the sizes, flood logins this long against the last size (bench.login_flood)",
    )
    parser.add_argument(
        "--server",
        default=databases.DEFAULT_SERVER,
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="leave BENCHMARKS.md and the plot as they are (the plot goes to bench/.cache)",
    )
    args = parser.parse_args()
    letters = letters_of(args.scenarios)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in logs
    if not load.available():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    postgraphile = None
    if "a" in letters or "b" in letters:  # the only scenarios PostGraphile can express
        postgraphile = (
            "--no-postgraphile" if args.no_postgraphile else servers.install_postgraphile()
        )
    results: report.Results = {}
    remarks: report.Remarks = {}
    memory: report.Memory = {}
    sized: list[Sized] = []
    started = time.monotonic()
    for size in (int(s) for s in args.sizes.split(",")):
        sized.append(sized_up(args.server, size, letters))
        results[size], remarks[size], memory[size] = run_size(
            sized[-1], letters, args.seconds, postgraphile
        )
    lines = report.markdown(results, remarks, memory)
    if args.login_flood:
        print(f"login flood, {args.login_flood} s, against {sized[-1].size:,} enterprises")
        flooded = login_flood.flood(sized[-1].database_url, args.login_flood)
        lines += [f"### Login flood ({sized[-1].size:,} enterprises)", "", *flooded, ""]
    print("\n".join(lines))
    written = report.latency_by_size(results, SCRATCH_PLOT if args.no_write else PLOT)
    print(f"done in {time.monotonic() - started:.0f} s; wrote {', '.join(map(str, written))}")
    if not args.no_write:
        plot = ", ".join(f"`{Path(p).relative_to(report.ROOT)}`" for p in written)
        report.write_section(
            preamble(args, sized, letters)
            + lines
            + [f"p50 of each scenario by table size: {plot}."]
        )
    print(json.dumps({s.size: dataclasses.asdict(s) for s in sized}, default=str))


if __name__ == "__main__":
    main()
