"""What an operator sees: a request id on every answer and in every log line of the request,
Prometheus counts by door, operation and code, and slow requests logged by name."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app
from api.logs import JsonFormatter
from api.settings import get_settings

TOWNS = {"query": 'query Towns { area(code: "350112") { name } }', "operationName": "Towns"}


def samples(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = client.get("/metrics").text
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def count(client: TestClient, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    return samples(client, "fugong_requests_total").get(wanted, 0.0)


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one_sent(client):
    first, second = client.get("/health"), client.get("/health")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    sent = client.get("/health", headers={"X-Request-Id": "lb-7f3a.42"})
    assert sent.headers["x-request-id"] == "lb-7f3a.42"
    odd = client.get("/health", headers={"X-Request-Id": "x" * 200})
    assert odd.headers["x-request-id"] != "x" * 200


def test_requests_are_counted_by_door_operation_and_code(client):
    before = count(client, door="graphql", operation="Towns", code="OK")
    assert client.post("/graphql", json=TOWNS).status_code == 200
    assert client.post("/graphql", json=TOWNS).status_code == 200
    assert count(client, door="graphql", operation="Towns", code="OK") == before + 2

    bad = {"query": "query Bad { area(code: 1) { nope } }", "operationName": "Bad"}
    code = client.post("/graphql", json=bad).json()["errors"][0]["extensions"]["code"]
    assert count(client, door="graphql", operation="Bad", code=code) >= 1

    before = count(client, door="tiles", operation="vector_tile", code="NOT_FOUND")
    assert client.get("/tiles/nothing/1/0/0.mvt").status_code == 404
    assert count(client, door="tiles", operation="vector_tile", code="NOT_FOUND") == before + 1


def test_tile_cache_hits_and_latency_are_measured(client):
    tile = "/tiles/enterprises/12/3407/1744.mvt"
    before = samples(client, "fugong_tile_cache_total")
    client.get(tile)
    client.get(tile)
    after = samples(client, "fugong_tile_cache_total")
    assert after[(("result", "built"),)] - before.get((("result", "built"),), 0) == 1
    assert after[(("result", "hit"),)] - before.get((("result", "hit"),), 0) == 1
    latency = samples(client, "fugong_request_seconds_count")
    assert latency[(("door", "tiles"), ("operation", "vector_tile"))] >= 2


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fugong")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_slow_request_is_logged_as_json_with_its_name_duration_and_request_id(
    sessions: sessionmaker[Session], log_lines: io.StringIO
):
    settings = dataclasses.replace(get_settings(), slow_ms=0)  # every request is slow
    with TestClient(create_app(settings, sessions=sessions)) as client:
        response = client.post("/graphql", json=TOWNS)
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    slow = [line for line in lines if line["logger"] == "fugong.requests"]
    assert len(slow) == 1, lines
    assert slow[0]["operation"] == "Towns" and slow[0]["door"] == "graphql"
    assert slow[0]["ms"] >= 0 and slow[0]["level"] == "WARNING"
    assert slow[0]["request_id"] == response.headers["x-request-id"]


def test_health_is_liveness_and_ready_checks_database_migrations_and_listener(client):
    assert client.get("/health").json() == {"status": "ok"}
    deadline = time.monotonic() + 2  # the listener connects in the background at start
    while (ready := client.get("/ready")).status_code != 200 and time.monotonic() < deadline:
        assert ready.json()["checks"]["listener"] == "not connected", ready.json()
        time.sleep(0.05)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "listener": "ok"}
