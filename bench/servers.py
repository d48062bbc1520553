"""The three servers under test, each started on a free loopback port and always stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import make_url

from api import roles
from geo.seed import demo_days_back

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "bench" / ".cache" / "logs"
POSTGRAPHILE_DIR = ROOT / "bench" / "postgraphile"
WORKERS = 2  # = cores on the benchmark machine
POOL_SIZE = 8  # database connections per process, for every server (fugong's default)
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0
NPM_TIMEOUT_S = 300.0
POSTGRAPHILE_PLUGINS = (
    "@graphile/postgis,postgraphile-plugin-connection-filter,"
    "postgraphile-plugin-connection-filter-postgis"
)


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def started(
    name: str, command: list[str], env: dict[str, str], port: int, ready_path: str, cwd: Path = ROOT
) -> Iterator[Server]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{name}.log").open("wb")
    # A session of its own, so that stopping it stops every worker it forked.
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, f"http://127.0.0.1:{port}", process)
    try:
        _wait_ready(server, ready_path)
        yield server
    finally:
        _stop(process)
        log.close()


def fugong(database_url: str, more_env: dict[str, str] | None = None) -> Any:
    port = free_port()
    env = {
        "DATABASE_URL": serving(database_url),
        "PORT": str(port),
        "WORKERS": str(WORKERS),
        "FUGONG_POOL_SIZE": str(POOL_SIZE),
        "FUGONG_ACCESS_LOG": "0",  # as the others: no line per request
        # The demo's days lie in February 2020: store their route plans as today's would be.
        "FUGONG_PLAN_DAYS_BACK": str(demo_days_back()),
        **(more_env or {}),
    }
    command = [str(ROOT / ".venv/bin/fugong"), "serve", "--workers", str(WORKERS)]
    return started("fugong", command, env, port, "/health")


def serving(database_url: str) -> str:
    """The database as fugong's serving role (api/roles.py), as `fugong serve` connects."""
    return make_url(database_url).set(username=roles.APP).render_as_string(False)


def baseline(database_url: str, spec: dict[str, list[Any]]) -> Any:
    port = free_port()
    env = {
        "BENCH_DATABASE_URL": database_url,
        "BENCH_SPEC": json.dumps(spec),
        "BENCH_POOL_SIZE": str(POOL_SIZE),
    }
    return started("raw", _uvicorn("bench.baseline:app", port), env, port, "/health")


def tipg(database_url: str) -> Any:
    """tipg (`pip install .[bench]`) serving the public schema of the same database."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        "TIPG_DB_MIN_CONN_SIZE": "1",
        "TIPG_DB_MAX_CONN_SIZE": str(POOL_SIZE),
    }
    return started("tipg", _uvicorn("tipg.main:app", port), env, port, "/healthz")


def _uvicorn(app: str, port: int) -> list[str]:
    """An ASGI app under uvicorn, as the benchmark runs every Python server but fugong."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def postgraphile(database_url: str) -> Any:
    port = free_port()
    command = [
        str(POSTGRAPHILE_DIR / "node_modules/.bin/postgraphile"),
        "-c",
        database_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--schema",
        "public",
        "--append-plugins",
        POSTGRAPHILE_PLUGINS,
        "--disable-query-log",
        "--disable-default-mutations",
        "--cluster-workers",
        str(WORKERS),
        "--max-pool-size",
        str(POOL_SIZE),
    ]
    return started(
        "postgraphile", command, {"NODE_ENV": "production"}, port, "/graphql", cwd=POSTGRAPHILE_DIR
    )


def install_postgraphile() -> str | None:
    """npm install into bench/postgraphile (git-ignored); the reason it failed, or None."""
    if (POSTGRAPHILE_DIR / "node_modules/.bin/postgraphile").exists():
        return None
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            cwd=POSTGRAPHILE_DIR,
            capture_output=True,
            timeout=NPM_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"npm install failed: {error}"
    if done.returncode != 0:
        return "npm install failed: " + done.stderr.decode(errors="replace")[-500:]
    return None


def restarts(server: Server) -> int:
    """How many of the server's workers uvicorn found dead (or hung) and replaced so far."""
    log = (LOGS / f"{server.name}.log").read_text(errors="replace")
    return sum(1 for line in log.splitlines() if "Child process" in line and "died" in line)


def worker_rss_mb(server: Server) -> dict[int, float]:
    """Resident memory (VmRSS) of each of the server's workers, in MB: the processes its
    multiprocessing spawned (not its resource tracker), else the server alone."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != server.process.pid:
                continue
            if b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                found[int(stat.parent.name)] = _rss_mb(stat.parent / "status")
    return found or {server.process.pid: _rss_mb(Path(f"/proc/{server.process.pid}/status"))}


def _rss_mb(status: Path) -> float:
    kb = next(line.split()[1] for line in status.read_text().splitlines() if line[:6] == "VmRSS:")
    return int(kb) / 1024


def _wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; "
                f"see {LOGS / (server.name + '.log')}"
            )
        try:
            # PostGraphile answers GET /graphql with 405 once it listens: that is ready.
            if httpx.get(server.base_url + path, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{server.name} not ready after {READY_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
