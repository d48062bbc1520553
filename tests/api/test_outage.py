"""Real uvicorn workers on a copy of the suite's PostgreSQL (another port, a temporary folder;
tests/cluster.py), so that stopping it never stops the suite's: a restart under concurrent
reads and writes, readiness, a drain on SIGTERM, and workers that die with their parent."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.auth import issue_token
from api.settings import PROJECT_DIR, get_settings
from geo.db import make_engine
from tests.cluster import Cluster, cloned_cluster, free_port
from tests.live import PROTOCOL, SUBSCRIPTION

RECOVERY_S = 2.0  # first success after the database accepts connections again
OUTAGE_LOG_BYTES = 8_000  # what the server may log while the database is down, all workers
RECORD = """mutation ($key: String!, $id: ID!, $at: GeoJSON!) { recordInspection(input: {
  idempotencyKey: $key, targetId: $id, at: "2020-02-28T09:00:00+08:00", location: $at,
  gpsAccuracyMeters: 10,
  findings: "outage test" }) { id } }"""
READ = '{ enterprises(first: 10, where: {areaCode: "350112"}) { totalCount edges { node { id } } } }'


@pytest.fixture(scope="module")
def cluster(engine: Engine) -> Iterator[Cluster]:
    """A copy of the suite's server (its test database migrated and seeded), to stop at will."""
    with cloned_cluster(engine, standby=False) as copy:
        yield copy


@dataclasses.dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> int:
        return httpx.get(f"{self.base}/ready", timeout=5).status_code


@contextlib.contextmanager
def serving(cluster: Cluster, tmp: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--workers", "2"],
            env={
                **os.environ,
                "DATABASE_URL": cluster.url,
                "PORT": str(port),
                "FUGONG_ACCESS_LOG": "0",
                "FUGONG_LOG_FORMAT": "json",
                **env,
            },
            cwd=PROJECT_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so that cleanup reaches every worker
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if server.ready() == 200:
                    break
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def tokens_of(cluster: Cluster) -> tuple[str, str, dict[str, Any]]:
    engine = make_engine(cluster.url)
    with engine.connect() as connection:
        account = connection.execute(
            text("SELECT id FROM account WHERE username = 'district'")
        ).scalar_one()
        target, lon, lat = connection.execute(
            text("SELECT id, ST_X(geom), ST_Y(geom) FROM enterprise ORDER BY id LIMIT 1")
        ).one()
    engine.dispose()
    token = issue_token(get_settings(), account)
    return token, f"Enterprise:{target}", {"type": "Point", "coordinates": [lon, lat]}


@dataclasses.dataclass
class Outcome:
    at: float
    status: int
    code: str | None


class Load:
    """Writers (each write retried under its key until acknowledged, as a field app does)
    and readers (GraphQL and tiles), until stopped."""

    def __init__(self, server: Server, cluster: Cluster, writers: int = 3, readers: int = 3):
        self.base = server.base
        self.token, self.target, self.location = tokens_of(cluster)
        self.outcomes: list[Outcome] = []
        self.acknowledged: set[str] = set()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.write, args=(n,)) for n in range(writers)
        ] + [threading.Thread(target=self.read, args=(n,)) for n in range(readers)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

    def note(self, response: httpx.Response) -> bool:
        json_body = response.headers.get("content-type", "").startswith("application/json")
        body = response.json() if json_body else {}
        errors = body.get("errors")
        code = errors[0]["extensions"]["code"] if errors else None
        self.outcomes.append(Outcome(time.monotonic(), response.status_code, code))
        return response.status_code == 200 and not errors

    def write(self, writer: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, timeout=10, headers=headers) as client:
            n = 0
            while not self.stopping.is_set():
                key = f"outage-{writer}-{n}"
                variables = {"key": key, "id": self.target, "at": self.location}
                while not self.stopping.is_set():
                    response = client.post("/graphql", json={"query": RECORD, "variables": variables})
                    if self.note(response):
                        self.acknowledged.add(key)
                        break
                    time.sleep(0.05)
                n += 1

    def read(self, reader: int) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stopping.is_set():
                if reader % 2:
                    self.note(client.get("/tiles/enterprises/12/3407/1744.mvt"))
                else:
                    self.note(client.post("/graphql", json={"query": READ}))
                time.sleep(0.02)


def test_a_database_restart_under_reads_and_writes(cluster, tmp_path):
    with serving(cluster, tmp_path) as server, Load(server, cluster) as load:
        time.sleep(2)
        assert server.ready() == 200
        log_before = server.log.stat().st_size
        down_at = time.monotonic()
        cluster.stop()
        time.sleep(0.5)
        assert server.ready() == 503
        time.sleep(2.5)
        cluster.start()
        up_at = time.monotonic()
        while server.ready() != 200:  # probed as a load balancer would
            assert time.monotonic() - up_at < RECOVERY_S, "not ready again"
            time.sleep(0.2)
        time.sleep(2)
        log_during = server.log.stat().st_size - log_before

    failures = [o for o in load.outcomes if o.status != 200 or o.code is not None]
    assert failures, "the outage refused nothing: was the database really stopped?"
    assert {(o.status, o.code) for o in failures} == {(503, "SERVICE_UNAVAILABLE")}
    assert all(down_at <= o.at <= up_at + RECOVERY_S for o in failures)
    first_success = min(o.at for o in load.outcomes if o.at > up_at and o.status == 200)
    assert first_success - up_at < RECOVERY_S

    engine = make_engine(cluster.url)
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT idempotency_key, count(*) FROM inspection"
                " WHERE idempotency_key LIKE 'outage-%' GROUP BY 1"
            )
        ).all()
    engine.dispose()
    counts = dict(stored)
    assert load.acknowledged <= set(counts)  # every acknowledged write is there
    assert set(counts.values()) == {1}  # and none twice
    # Beyond the acknowledged: at most the write each writer had in flight when stopped.
    assert len(set(counts) - load.acknowledged) <= 3

    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert log_during < OUTAGE_LOG_BYTES, server.log.read_text()[-3000:]
    assert not [line for line in lines if "exception" in line or "Traceback" in line["message"]]
    down = [line for line in lines if line["message"].startswith("database unreachable")]
    back = [line for line in lines if line["message"].startswith("database reachable again")]
    assert 1 <= len(down) <= 2 and 1 <= len(back) <= 2  # once per worker that saw it


def test_retention_is_kept_by_the_workers(cluster, tmp_path):
    age_h = {"FUGONG_TILE_CACHE_MAX_AGE_H": "0", "FUGONG_RETENTION_INTERVAL_S": "1"}
    with serving(cluster, tmp_path, **age_h) as server:
        assert httpx.get(f"{server.base}/tiles/enterprises/12/3407/1745.mvt").status_code == 200
        engine = make_engine(cluster.url)
        deadline = time.monotonic() + 5
        with engine.connect() as connection:
            while connection.execute(text("SELECT count(*) FROM tile_cache")).scalar_one():
                assert time.monotonic() < deadline, "no worker pruned the tile cache"
                connection.commit()
                time.sleep(0.2)
        engine.dispose()


def test_sigterm_drains_a_request_in_flight_and_closes_subscriptions(cluster, tmp_path):
    shutdown_s = 5
    env = {"FUGONG_SHUTDOWN_S": str(shutdown_s), "FUGONG_LOCK_TIMEOUT_MS": "20000"}
    answer: list[httpx.Response] = []
    with (
        serving(cluster, tmp_path, **env) as server,
        connect(server.base.replace("http", "ws") + "/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(5))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        engine = make_engine(cluster.url)
        with engine.connect() as holder:
            holder.begin()
            holder.execute(text("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE"))
            request = threading.Thread(
                target=lambda: answer.append(
                    httpx.post(f"{server.base}/graphql", json={"query": READ}, timeout=30)
                )
            )
            request.start()
            time.sleep(1)  # the request now waits on the lock
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1)
            holder.rollback()  # the lock goes; the request in flight can finish
        engine.dispose()
        request.join(30)
        server.process.wait(shutdown_s + 5)
        stopped = time.monotonic() - signalled
        with pytest.raises(ConnectionClosed):  # the server closed the subscription
            while True:
                ws.recv(1)
    assert answer and answer[0].status_code == 200, answer and answer[0].text
    assert answer[0].json()["data"]["enterprises"]["totalCount"] > 0
    assert stopped < shutdown_s + 2
    assert server.process.returncode == 0


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def test_workers_die_with_their_parent(cluster, tmp_path):
    with serving(cluster, tmp_path) as server:
        port = int(server.base.rsplit(":", 1)[1])
        workers = [pid for pid in children(server.process.pid) if alive(pid)]
        assert len(workers) >= 2
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(5)
        time.sleep(1)
        assert not listening(port), "an orphaned worker still serves the port"
        assert not [pid for pid in workers if alive(pid)]
        # The port is free for the next start.
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
