"""A soak: the (g) mix for N minutes, each fugong worker's RSS read every 30 s (issue 18),
with or without one database restart in the middle (issue 16).

`python -m bench.soak [--minutes 10] [--clients 50] [--enterprises 10000] [--down-seconds 0]`

Without a restart (`--down-seconds 0`, the default) it serves the benchmark's database of that
size (bench.databases, seeded once and kept) with `fugong serve --workers 2` and drives the (g)
requests with wrk, as bench.harness does, for the whole time: req/s, p50, p99, errors.

With one (`--down-seconds 5`), on a PostgreSQL cluster of its own (a temporary folder, a free
port), so that the restart stops nothing else: seeds it, serves it, and has each client send the
(g) requests in turn (the demo inspector and town officer alternately), recording every answer.
Halfway it stops the database (pg_ctl stop -m fast), waits, and starts it again. Prints: the
failures outside the outage (there should be none), those during it by status and code, the
time from the database accepting connections to the first success, p50/p99 before and after.

Both print each worker's RSS: first, last and most, and every reading."""

from __future__ import annotations

import argparse
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
from bench import databases, load, scenarios, servers
from bench.harness import login
from bench.load import Request
from geo import seed
from geo.db import make_engine

SETTLE_S = 10  # after the restart, before the "after" latencies count
RSS_EVERY_S = 30


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


class Memory:
    """Each worker's RSS (MB) every RSS_EVERY_S, in a thread, until stopped."""

    def __init__(self, server: servers.Server) -> None:
        self.readings: list[tuple[float, dict[int, float]]] = []
        self._server, self._stop = server, threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> Memory:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()  # the last reading, at the end of the load

    def _take(self) -> None:
        self.readings.append(
            (time.monotonic() - self._started, servers.worker_rss_mb(self._server))
        )

    def _read(self) -> None:
        while True:
            self._take()
            if self._stop.wait(RSS_EVERY_S):
                return

    def report(self) -> list[str]:
        pids = sorted({pid for _, rss in self.readings for pid in rss})
        lines = []
        for pid in pids:
            series = [rss[pid] for _, rss in self.readings if pid in rss]
            lines.append(
                f"worker {pid} RSS: first {series[0]:.0f} MB, last {series[-1]:.0f} MB, "
                f"most {max(series):.0f} MB; every {RSS_EVERY_S} s: "
                + " ".join(f"{mb:.0f}" for mb in series)
            )
        return lines


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--down-seconds", type=float, default=0)
    parser.add_argument("--server", default=databases.DEFAULT_SERVER)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.down_seconds:
        steady(databases.ensure(args.server, args.enterprises), args)
        return
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


def mix_of(base_url: str, database_url: str) -> list[Request]:
    tokens = {role: login(base_url, role) for role in scenarios.MIX_ROLES}
    bbox, _ = scenarios.viewport(database_url)
    return scenarios.mixed(bbox, tokens, scenarios.inspector_zone(database_url))


def steady(database_url: str, args: argparse.Namespace) -> None:
    """(g) under wrk for the whole time, no restart: what memory does under a steady load."""
    with servers.fugong(database_url) as server:
        requests = mix_of(server.base_url, database_url)
        with Memory(server) as memory:
            found = load.drive(server.base_url, requests, int(args.minutes * 60), args.clients)
    print(
        f"\n(g) for {args.minutes:g} min, {args.clients} connections, {args.enterprises} "
        f"enterprises: {found.requests_per_s:.1f} req/s, p50 {found.p50_ms:.0f} ms, "
        f"p99 {found.p99_ms:.0f} ms, {found.errors} errors in {found.requests} requests"
    )
    print("\n".join(memory.report()))


def soak(server: servers.Server, url: str, settings, args: argparse.Namespace) -> None:  # noqa: ANN001
    base = server.base_url
    requests = mix_of(base, url)
    with Memory(server) as memory:
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
    print("\n".join(memory.report()))


if __name__ == "__main__":
    main()
