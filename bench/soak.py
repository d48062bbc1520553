"""A soak: the (g) mix for N minutes with one database restart in the middle (issue 16).

`python -m bench.soak [--minutes 10] [--clients 20] [--enterprises 10000] [--down-seconds 5]`

On a PostgreSQL cluster of its own (a temporary folder, a free port), so that the restart
stops nothing else: seeds it, serves it with `fugong serve --workers 2`, and has each client
send the (g) requests in turn (the demo inspector and town officer alternately), recording
every answer. Halfway it stops the database (pg_ctl stop -m fast), waits, and starts it again.
Prints: the failures outside the outage (there should be none), those during it by status and
code, the time from the database accepting connections to the first success, p50/p99 before
and after, and each worker's RSS at the start and the end."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx

import migrations
from api import localdb
from api.settings import get_settings
from bench import scenarios, servers
from bench.harness import login
from bench.load import Request
from geo import seed
from geo.db import make_engine

SETTLE_S = 10  # after the restart, before the "after" latencies count


@dataclasses.dataclass(frozen=True)
class Answer:
    at: float
    seconds: float
    ok: bool
    failure: str  # "" when ok, else "<status> <code>"


def send(client: httpx.Client, request: Request) -> Answer:
    headers = {"content-type": "application/json"}
    if request.authorization:
        headers["authorization"] = request.authorization
    started = time.monotonic()
    try:
        response = client.request(
            request.method, request.path, content=request.body, headers=headers
        )
    except httpx.TransportError as error:
        return Answer(started, time.monotonic() - started, False, type(error).__name__)
    seconds = time.monotonic() - started
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        code = errors[0].get("extensions", {}).get("code", "?") if errors else ""
    ok = response.status_code in (200, 304) and not code
    return Answer(started, seconds, ok, "" if ok else f"{response.status_code} {code}".strip())


def client_loop(
    base_url: str, requests: list[Request], offset: int, stop: threading.Event, out: list[Answer]
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        n = offset
        while not stop.is_set():
            out.append(send(client, requests[n % len(requests)]))
            n += 1


def worker_rss_mb(parent: int) -> dict[int, float]:
    """Resident memory of the server's workers (the children multiprocessing spawned; not its
    resource tracker), in MB."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            if b"spawn_main" not in (stat.parent / "cmdline").read_bytes():
                continue
            status = (stat.parent / "status").read_text()
            kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            found[int(stat.parent.name)] = int(kb) / 1024
    return found


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--down-seconds", type=float, default=5)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    root = Path(tempfile.mkdtemp(prefix="fugong-soak-"))
    root.chmod(0o755)  # as root, the cluster runs as `postgres`, which must reach it
    settings = dataclasses.replace(
        get_settings(), local_db_dir=root / "pgdata", local_db_port=servers.free_port()
    )
    try:
        url = localdb.start(settings)
        engine = make_engine(url)
        with engine.begin() as connection:
            migrations.upgrade(connection)
            seed.seed(connection, enterprises=args.enterprises)
        engine.dispose()
        print(f"seeded {args.enterprises} enterprises on a cluster of its own")
        with servers.fugong(url) as server:
            soak(server, url, settings, args)
    finally:
        localdb.stop(settings)
        shutil.rmtree(root, ignore_errors=True)


def soak(server: servers.Server, url: str, settings, args: argparse.Namespace) -> None:  # noqa: ANN001
    base = server.base_url
    tokens = {role: login(base, role) for role in scenarios.MIX_ROLES}
    bbox, _ = scenarios.viewport(url)
    requests = scenarios.mixed(bbox, tokens, scenarios.inspector_zone(url))
    rss_start = worker_rss_mb(server.process.pid)
    answers: list[list[Answer]] = [[] for _ in range(args.clients)]
    stop = threading.Event()
    clients = [
        threading.Thread(target=client_loop, args=(base, requests, n, stop, answers[n]))
        for n in range(args.clients)
    ]
    started = time.monotonic()
    for thread in clients:
        thread.start()
    total_s = args.minutes * 60
    time.sleep(total_s / 2)
    down_at = time.monotonic()
    localdb.stop(settings)
    time.sleep(args.down_seconds)
    localdb.start(settings)  # returns once the database accepts connections
    up_at = time.monotonic()
    time.sleep(max(0.0, started + total_s - time.monotonic()))
    stop.set()
    for thread in clients:
        thread.join(60)
    rss_end = worker_rss_mb(server.process.pid)

    every = sorted((a for per_client in answers for a in per_client), key=lambda a: a.at)
    first_ok = min((a.at + a.seconds for a in every if a.ok and a.at >= up_at), default=None)
    recovered_at = first_ok if first_ok is not None else float("inf")
    outage = [a for a in every if a.at + a.seconds >= down_at and a.at <= recovered_at]
    outside = [a for a in every if a not in outage and not a.ok]
    before = [a.seconds for a in every if a.ok and a.at + a.seconds < down_at]
    after = [a.seconds for a in every if a.ok and a.at >= up_at + SETTLE_S]
    print(f"\n{len(every)} requests by {args.clients} clients in {args.minutes:g} min; "
          f"the database down for {up_at - down_at:.1f} s")  # fmt: skip
    print(f"failures outside the outage: {dict(Counter(a.failure for a in outside))}")
    print(f"failures during the outage: {dict(Counter(a.failure for a in outage if not a.ok))}")
    print(f"first success after the database accepted connections: {recovered_at - up_at:.2f} s")
    print(f"p50/p99 before: {percentile(before, 50):.0f}/{percentile(before, 99):.0f} ms "
          f"({len(before)}); after (from {SETTLE_S} s on): "
          f"{percentile(after, 50):.0f}/{percentile(after, 99):.0f} ms ({len(after)})")  # fmt: skip
    for pid in sorted(rss_start):
        print(f"worker {pid} RSS: {rss_start[pid]:.0f} MB at the start, "
              f"{rss_end.get(pid, float('nan')):.0f} MB at the end")  # fmt: skip


if __name__ == "__main__":
    main()
