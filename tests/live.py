"""Real server processes for WebSocket and page tests: a database of their own, where changes
commit (NOTIFY is sent only then), `fugong serve` processes on it, and a client's helpers."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, text
from websockets.sync.client import connect

import migrations
from geo import seed
from geo.db import make_engine
from tests.cluster import free_port
from tests.conftest import scratch_database

JINFENG = "350112109"
PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = """subscription ($area: String) { flagChanged(areaCode: $area) {
  target { ... on Enterprise { id } ... on ConstructionSite { id } } from to reason at } }"""
UPDATE = """mutation ($id: ID!, $input: ResumptionInput!) {
  updateResumption(targetId: $id, input: $input) { color } }"""


@contextlib.contextmanager
def seeded_database(engine: Engine, suffix: str, enterprises: int | None = None) -> Iterator[str]:
    """A scratch database, migrated and seeded with the demo (`enterprises` of them); its URL."""
    with scratch_database(engine, suffix) as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
            if enterprises is None:
                seed.seed(connection)
            else:
                seed.seed(connection, enterprises=enterprises)
        scratch.dispose()
        yield url


@pytest.fixture(scope="session")
def live_db(engine: Engine) -> Iterator[str]:
    with seeded_database(engine, "live", enterprises=200) as url:
        yield url


@contextlib.contextmanager
def serving(
    database_url: str, log: Path | None = None, **environment: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`fugong serve` on a free port with these settings (its public URL its own address), its
    output in `log` (or dropped); its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    output = subprocess.DEVNULL if log is None else log.open("wb")
    settings = {"DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve"],
        env={**os.environ, **settings, "FUGONG_PUBLIC_URL": base, **environment},
        stdout=output,
        stderr=output,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base} did not start"
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(10)
        if log is not None:
            output.close()  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def servers(live_db: str) -> Iterator[list[str]]:
    with serving(live_db) as (first, _), serving(live_db) as (second, _):
        yield [first, second]


def login(base: str, username: str) -> str:
    query = f'mutation {{ login(username: "{username}", password: "demo") }}'
    return httpx.post(f"{base}/graphql", json={"query": query}).json()["data"]["login"]


def post(base: str, token: str | None, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL request as any client sends it (anonymous without a token); the whole answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.json()  # type: ignore[no-any-return]


def live_query(live_db: str, sql: str, **params: Any) -> list[Any]:
    """A statement's rows, on the live servers' database (whose data they commit)."""
    engine = make_engine(live_db)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())
    finally:
        engine.dispose()


def live_commit(live_db: str, *statements: str, **params: Any) -> None:
    """Statements committed in one transaction on the live servers' database."""
    engine = make_engine(live_db)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), params)
    finally:
        engine.dispose()


def enterprise_in(live_db: str, inside: bool) -> int:
    return live_query(  # type: ignore[no-any-return]
        live_db,
        "SELECT e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE (a.code LIKE :town) = :inside AND e.resumption <> 'NOT_RESUMED'"
        " ORDER BY e.id LIMIT 1",
        town=JINFENG + "%",
        inside=inside,
    )[0][0]


@contextlib.contextmanager
def subscribe(
    base: str, token: str | None, area: str | None, query: str = SUBSCRIPTION
) -> Iterator[Any]:
    with connect(ws_url(base), subprotocols=[PROTOCOL]) as websocket:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        websocket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(websocket.recv(5))["type"] == "connection_ack"
        websocket.send(json.dumps({
            "id": "1", "type": "subscribe",
            "payload": {"query": query, "variables": {"area": area}},
        }))  # fmt: skip
        time.sleep(0.3)  # the server LISTENs before the first change is made
        yield websocket


def ws_url(base: str) -> str:
    return base.replace("http", "ws") + "/graphql"
