"""A web map on another host: a page on an allowed origin can query (with a token, so with a
preflight), load tiles and TileJSON, and subscribe; a page on any other origin cannot."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import login

CALLS = """async ([base, token]) => {
  const result = {};
  const attempt = async (name, call) => {
    try { result[name] = await call(); } catch (error) { result[name] = `refused: ${error.name}`; }
  };
  await attempt("graphql", async () => {
    const response = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: {"Content-Type": "application/json", Authorization: `Bearer ${token}`},
      body: JSON.stringify({query: "{ rentalProperties(first: 1) { totalCount } }"}),
    });
    return (await response.json()).data.rentalProperties.totalCount;
  });
  await attempt("tilejson", async () => (await (await fetch(`${base}/tiles/enterprises.json`)).json()).tiles[0]);
  await attempt("tile", async () => {
    const response = await fetch(`${base}/tiles/enterprises/12/3408/1743.mvt`, {headers: {Authorization: `Bearer ${token}`}});
    return `${response.status} ${response.headers.get("etag") ? "etag" : "no etag"} ${(await response.arrayBuffer()).byteLength > 0}`;
  });
  result.websocket = await new Promise((resolve) => {
    const socket = new WebSocket(`${base.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    socket.onopen = () => socket.send(JSON.stringify({type: "connection_init", payload: {Authorization: `Bearer ${token}`}}));
    socket.onmessage = (message) => { resolve(JSON.parse(message.data).type); socket.close(); };
    socket.onclose = (event) => resolve(`closed ${event.code}`);
  });
  return result;
}"""


def calls_from(open_page: Any, origin: str, server: str) -> dict[str, Any]:
    watched = open_page(f"{origin}/", allow=(server,))
    return watched.page.evaluate(CALLS, [server, login(server, "district")])  # type: ignore[no-any-return]


def test_a_page_on_an_allowed_origin_queries_loads_tiles_and_subscribes(
    live_server, open_page, elsewhere
):
    result = calls_from(open_page, elsewhere["allowed"], live_server)
    assert result["graphql"] > 0
    assert result["tilejson"] == f"{live_server}/tiles/enterprises/{{z}}/{{x}}/{{y}}.mvt"
    assert result["tile"] == "200 etag true"
    assert result["websocket"] == "connection_ack"


@pytest.mark.parametrize("door", ["graphql", "tilejson", "tile"])
def test_a_page_on_another_origin_is_refused(live_server, open_page, elsewhere, door):
    result = calls_from(open_page, elsewhere["refused"], live_server)
    assert result[door] == "refused: TypeError"
    assert result["websocket"] == "closed 1006"
