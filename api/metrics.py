"""Prometheus metrics at /metrics: requests by door, operation and code, their latency, the
database pool, route solves, the tile cache and the live-update listener.

With several workers (`fugong serve --workers N`) each worker writes its samples under
PROMETHEUS_MULTIPROC_DIR (set by `fugong serve`), and /metrics answers for all of them."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from geo.live import Listener
from geo.outage import AVAILABILITY
from geo.routing.stored import SOLVE_OBSERVERS

REQUESTS = Counter(
    "fugong_requests", "Requests answered", ["door", "operation", "code"]
)
LATENCY = Histogram(
    "fugong_request_seconds",
    "Time to answer a request",
    ["door", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SOLVES = Histogram(
    "fugong_route_solve_seconds",
    "Route solves (a zone's day plan) and their time",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
TILE_CACHE = Counter("fugong_tile_cache", "Tiles answered from tile_cache or built", ["result"])
POOL = Gauge(
    "fugong_db_pool_connections",
    "Database connections of this worker's pools by state",
    ["pool", "state"],
    multiprocess_mode="livesum",
)
LISTENER = Gauge(
    "fugong_listener_connected",
    "1 while the live-update (LISTEN) connection is open",
    multiprocess_mode="livemin",
)
DATABASE_UP = Gauge(
    "fugong_database_reachable",
    "0 while this worker finds the database unreachable",
    multiprocess_mode="livemin",
)
SOLVE_OBSERVERS.append(SOLVES.observe)


def sample_state(engines: dict[str, Engine | None], listener: Listener | None) -> None:
    """Gauges of what this worker holds now: called per request and per scrape."""
    for name, engine in engines.items():
        pool = getattr(engine, "pool", None) if engine is not None else None
        if pool is None or not hasattr(pool, "checkedout"):
            continue
        POOL.labels(name, "in_use").set(pool.checkedout())
        POOL.labels(name, "idle").set(pool.checkedin())
    if listener is not None:
        LISTENER.set(1 if listener.connected else 0)
    DATABASE_UP.set(0 if AVAILABILITY.down else 1)


async def metrics(request: Request) -> Response:
    state = request.app.state
    sample_state(state.engines, state.listener)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def worker_exited(pid: int) -> None:
    """Forget a worker's live gauges (its counters still count)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
