"""CORS on every HTTP door, present and future (preflights answered before any route runs),
the WebSocket door checking the same origins, and never a credentialed wildcard."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.settings import get_settings

ALLOWED = "https://map.example.org"
OTHER = "https://evil.example"
DOORS = [
    "/graphql",
    "/tiles",
    "/tiles/enterprises.json",
    "/tiles/enterprises/12/3408/1743.mvt",
    "/routes/PatrolZone:1/2020-02-28.gpx",
    "/health",
    "/map",
    "/a/door/added/later",  # the middleware knows no routes: a door added later is covered
]


@pytest.fixture
def web(sessions) -> Iterator[TestClient]:
    settings = dataclasses.replace(get_settings(), cors_origins=frozenset({ALLOWED}))
    with TestClient(create_app(settings, sessions)) as client:
        yield client


def preflight(client: TestClient, path: str, origin: str, headers: str = "authorization"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST" if path == "/graphql" else "GET",
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("path", DOORS)
def test_every_door_answers_a_preflight_from_an_allowed_origin(web, path):
    response = preflight(web, path, ALLOWED, "authorization, content-type")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("path", DOORS)
def test_every_door_refuses_a_preflight_from_another_origin(web, path):
    response = preflight(web, path, OTHER)
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN_ORIGIN" and OTHER in error["message"]
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_for_a_header_not_needed_is_refused(web):
    response = preflight(web, "/graphql", ALLOWED, "x-forwarded-host")
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN_ORIGIN"


def test_answers_to_an_allowed_origin_carry_the_headers_errors_too(web, tokens):
    ok = web.get("/tiles/enterprises.json", headers={"Origin": ALLOWED})
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert "ETag" in ok.headers["access-control-expose-headers"]
    # A refused token is still readable by the page: it can tell the user to log in again.
    refused = web.post(
        "/graphql",
        json={"query": "{ areas { code } }"},
        headers={"Origin": ALLOWED, "Authorization": "Bearer forged"},
    )
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    other = web.get("/tiles/enterprises.json", headers={"Origin": OTHER})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_a_wildcard_is_never_credentialed(sessions):
    settings = dataclasses.replace(get_settings(), cors_origins=frozenset({"*"}))
    with TestClient(create_app(settings, sessions)) as client:
        response = preflight(client, "/graphql", OTHER)
        simple = client.get("/tiles", headers={"Origin": OTHER})
    assert response.headers["access-control-allow-origin"] == "*"
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers | simple.headers


def test_the_websocket_accepts_the_same_origins_and_refuses_others(web):
    with web.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": ALLOWED}
    ) as socket:
        socket.send_json({"type": "connection_init", "payload": {}})
        assert socket.receive_json()["type"] == "connection_ack"
    with pytest.raises(WebSocketDisconnect):
        with web.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": OTHER}
        ) as socket:
            socket.send_json({"type": "connection_init", "payload": {}})
            socket.receive_json()
