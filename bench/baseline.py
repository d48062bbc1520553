"""The raw-SQL baseline: a minimal Starlette app whose endpoints run one statement each, with
the JSON (or the vector tile) built whole by PostgreSQL and passed through as bytes.

`BENCH_DATABASE_URL` names the database, `BENCH_SPEC` (JSON: {name: [kind, *args]}) the
statements; run as `uvicorn bench.baseline:app --workers 2`. No authentication (see harness)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from psycopg2.pool import ThreadedConnectionPool
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import statements
from geo.crs import Crs
from geo.filters import SpatialFilter

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "8"))  # per worker, as every server's

KINDS: dict[str, Callable[..., statements.Statement]] = {
    "features": lambda bbox, limit: statements.features(bbox, limit),
    "enterprises": lambda bbox, first: statements.enterprises(SpatialFilter(bbox=bbox), first),
    "near": lambda point, radius_m, first: statements.near(tuple(point), radius_m, first),
    "counts": lambda day: statements.counts(None if day is None else date.fromisoformat(day)),
    "tile": lambda z, x, y, crs="WGS84": statements.tile(z, x, y, Crs(crs)),
    "due": lambda zone_id, day: statements.due(zone_id, date.fromisoformat(day)),
    "ogc_items": lambda bbox, limit: statements.ogc_items(bbox, limit),
    "briefing": lambda area_code, day: statements.briefing(DATABASE_URL, area_code, day),
}


def prepared(spec: dict[str, list[Any]]) -> dict[str, statements.Statement]:
    return {name: KINDS[kind](*args) for name, (kind, *args) in spec.items()}


def run(pool: ThreadedConnectionPool, statement: statements.Statement) -> bytes:
    connection = pool.getconn()
    try:
        # One round trip, as fugong's reads (geo.db.Databases.read): the statement is a
        # transaction of its own, with no BEGIN before it or ROLLBACK after.
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            value = cursor.fetchone()[0]
    finally:
        pool.putconn(connection)
    if value is None:
        return b""
    return bytes(value) if isinstance(value, memoryview) else value.encode()


async def scenario(request: Request) -> Response:
    name = request.path_params["name"]
    statement = request.app.state.statements.get(name)
    if statement is None:
        return Response(b"unknown scenario", status_code=404)
    body = await run_in_threadpool(run, request.app.state.pool, statement)
    kind = (
        "application/vnd.mapbox-vector-tile"
        if name.startswith(("e_tile", "h_tile"))
        else "application/geo+json"
        if name.startswith("j_ogc")
        else "application/json"
    )
    return Response(body, media_type=kind)


async def health(request: Request) -> Response:
    return Response(b"ok")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.statements = prepared(json.loads(os.environ["BENCH_SPEC"]))
    app.state.pool = ThreadedConnectionPool(1, POOL_SIZE, DATABASE_URL)
    try:
        yield
    finally:
        app.state.pool.closeall()


app = Starlette(routes=[Route("/s/{name}", scenario), Route("/health", health)], lifespan=lifespan)
