"""Flag changes reach WebSocket subscribers of every server process, whichever made them:
two real uvicorn processes on a database of their own."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from geo.db import make_engine
from tests.live import login, post, seeded_database, served

JINFENG = "350112109"
PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = """subscription ($area: String) { flagChanged(areaCode: $area) {
  target { ... on Enterprise { id } ... on ConstructionSite { id } } from to reason at } }"""
UPDATE = """mutation ($id: ID!, $input: ResumptionInput!) {
  updateResumption(targetId: $id, input: $input) { color } }"""


@pytest.fixture(scope="module")
def live_db(engine: Engine) -> Iterator[str]:
    with seeded_database(engine, "live", enterprises=200) as url:
        yield url


@pytest.fixture(scope="module")
def servers(live_db: str) -> Iterator[list[str]]:
    with served(live_db) as first, served(live_db) as second:
        yield [first, second]


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
            second, UPDATE, district, id=f"Enterprise:{elsewhere}", input=outside
        )
        sent = time.monotonic()
        body = post(
            second, UPDATE, town, id=f"Enterprise:{jinfeng}", input={"status": "NOT_RESUMED"}
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
