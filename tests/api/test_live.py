"""Flag changes reach WebSocket subscribers of every server process, whichever made them:
two real uvicorn processes on a database of their own (tests/live.py)."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live import JINFENG, PROTOCOL, UPDATE, enterprise_in, login, post, subscribe, ws_url


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
