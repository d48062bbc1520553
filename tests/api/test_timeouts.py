"""Server connections give up on a lock at FUGONG_LOCK_TIMEOUT_MS: a request stuck behind a
long lock fails with TIMEOUT (HTTP 503 and Retry-After) at that time, on every door."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from geo.db import Timeouts

LOCK_MS = 1000


@pytest.fixture
def server(engine: Engine) -> Iterator[TestClient]:
    """The app on the suite's (committed) database, with its own pool and a short lock timeout."""
    settings = dataclasses.replace(
        get_settings(),
        database_url=engine.url.render_as_string(hide_password=False),
        timeouts=Timeouts(lock_ms=LOCK_MS),
        retention_interval_s=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def locked(engine: Engine) -> Iterator[None]:
    """Another transaction holding every table a map reads, as a long migration would."""
    with engine.connect() as holder:
        holder.begin()
        holder.execute(text("LOCK TABLE area, enterprise IN ACCESS EXCLUSIVE MODE"))
        yield
        holder.rollback()


def timed(send):  # noqa: ANN001, ANN201
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    "door",
    [
        lambda c: c.post("/graphql", json={"query": '{ area(code: "350112") { name } }'}),
        # Answered from SQL without graphql-core (schema/operations.py), and waited for once.
        lambda c: c.post("/graphql", json={"query": "{ features(layer: ENTERPRISES) }"}),
        lambda c: c.get("/tiles/enterprises/14/13626/6985.mvt"),
    ],
    ids=["graphql", "compiled", "tiles"],
)
def test_a_long_lock_fails_a_request_with_timeout_at_the_configured_time(server, locked, door):
    response, seconds = timed(lambda: door(server))
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "lock" in error["message"]
    assert LOCK_MS / 1000 <= seconds < 2 * LOCK_MS / 1000  # one wait, never two


def test_without_the_lock_the_same_request_answers(server):
    response = server.post("/graphql", json={"query": '{ area(code: "350112") { name } }'})
    assert response.status_code == 200 and response.json()["data"]["area"]["name"] == "长乐区"
    # The pool it used is in the metrics: its connection back, idle.
    metrics = server.get("/metrics").text
    assert 'fugong_db_pool_connections{pool="primary",state="idle"} 1.0' in metrics
    assert 'fugong_db_pool_connections{pool="primary",state="in_use"} 0.0' in metrics
