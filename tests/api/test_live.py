"""Flag changes reach WebSocket subscribers of every server process, whichever made them:
two real uvicorn processes on a database of their own."""

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
from websockets.exceptions import ConnectionClosed
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


@pytest.fixture(scope="module")
def live_db(engine: Engine) -> Iterator[str]:
    with scratch_database(engine, "live") as url:
        scratch = make_engine(url)
        with scratch.begin() as connection:
            migrations.upgrade(connection)
            seed.seed(connection, enterprises=200)
        scratch.dispose()
        yield url


@contextlib.contextmanager
def serving(database_url: str, log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`fugong serve` on a free port, its output in `log` (or dropped); its base URL."""
    port = free_port()
    output = subprocess.DEVNULL if log is None else log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve"],
        env={**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "1"},
        stdout=output,
        stderr=output,
    )
    base = f"http://127.0.0.1:{port}"
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


@pytest.fixture(scope="module")
def servers(live_db: str) -> Iterator[list[str]]:
    with serving(live_db) as (first, _), serving(live_db) as (second, _):
        yield [first, second]


def login(base: str, username: str) -> str:
    query = f'mutation {{ login(username: "{username}", password: "demo") }}'
    return httpx.post(f"{base}/graphql", json={"query": query}).json()["data"]["login"]


def post(base: str, token: str, query: str, **variables) -> dict:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()


def enterprise_in(live_db: str, inside: bool) -> int:
    engine = make_engine(live_db)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
            " WHERE (a.code LIKE :town) = :inside AND e.resumption <> 'NOT_RESUMED'"
            " ORDER BY e.id LIMIT 1"
        ), {"town": JINFENG + "%", "inside": inside}).scalar_one()  # fmt: skip
    engine.dispose()
    return found  # type: ignore[no-any-return]


@contextlib.contextmanager
def subscribe(base: str, token: str | None, area: str | None) -> Iterator[Any]:
    with connect(ws_url(base), subprotocols=[PROTOCOL]) as websocket:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        websocket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(websocket.recv(5))["type"] == "connection_ack"
        websocket.send(json.dumps({
            "id": "1", "type": "subscribe",
            "payload": {"query": SUBSCRIPTION, "variables": {"area": area}},
        }))  # fmt: skip
        time.sleep(0.3)  # the server LISTENs before the first change is made
        yield websocket


def ws_url(base: str) -> str:
    return base.replace("http", "ws") + "/graphql"


def test_a_change_through_one_process_reaches_a_subscriber_of_the_other(servers, live_db):
    first, second = servers
    town = login(second, "town")
    district = login(second, "district")
    elsewhere, jinfeng = enterprise_in(live_db, False), enterprise_in(live_db, True)
    with subscribe(first, login(first, "town"), JINFENG) as websocket:
        # A change outside Jinfeng is not for this subscriber; the one inside is.
        outside = {"status": "NOT_RESUMED"}
        assert "errors" not in post(
            second, district, UPDATE, id=f"Enterprise:{elsewhere}", input=outside
        )
        sent = time.monotonic()
        body = post(
            second, town, UPDATE, id=f"Enterprise:{jinfeng}", input={"status": "NOT_RESUMED"}
        )
        assert body["data"]["updateResumption"]["color"] == "RED", body
        message = json.loads(websocket.recv(5))
        heard = time.monotonic() - sent
    assert message["type"] == "next", message
    change = message["payload"]["data"]["flagChanged"]
    assert change["target"]["id"] == f"Enterprise:{jinfeng}" and change["to"] == "RED"
    assert heard < 1.0


def test_a_bad_token_is_refused_at_connection(servers):
    with connect(ws_url(servers[0]), subprotocols=[PROTOCOL]) as websocket:
        init = {"type": "connection_init", "payload": {"Authorization": "Bearer x"}}
        websocket.send(json.dumps(init))
        with pytest.raises(ConnectionClosed, match="4403"):
            websocket.recv(5)


def test_only_the_graphql_transport_ws_protocol(servers):
    with connect(ws_url(servers[0]), subprotocols=["graphql-ws"]) as websocket:
        with pytest.raises(ConnectionClosed, match="4406"):
            websocket.recv(5)
