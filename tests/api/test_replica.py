"""Reads go to a streaming replica (DATABASE_READ_URL), writes and what follows them to the
primary: with a replica this test starts itself, by pg_basebackup from the test server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from tests.cluster import cloned_cluster
from tests.conftest import GraphQLClient


@pytest.fixture(scope="module")
def replica(engine: Engine) -> Iterator[str]:
    with cloned_cluster(engine, standby=True) as cluster:
        yield cluster.url


@pytest.fixture
def statements() -> Iterator[list[int]]:
    """The port of the server each statement went to."""
    ports: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        ports.append(conn.engine.url.port)

    event.listen(Engine, "before_cursor_execute", record)
    yield ports
    event.remove(Engine, "before_cursor_execute", record)


def test_reads_from_the_replica_writes_to_the_primary(engine, replica, tokens, statements):
    primary_url = engine.url.render_as_string(hide_password=False)
    settings = dataclasses.replace(
        get_settings(), database_url=primary_url, database_read_url=replica
    )
    replica_port, primary_port = int(replica.rsplit(":", 1)[1].split("/")[0]), engine.url.port
    with TestClient(create_app(settings)) as client:
        district = GraphQLClient(client, tokens["district"])
        with engine.connect() as connection:
            target, lon, lat = connection.execute(text(
                "SELECT id, ST_X(geom), ST_Y(geom) FROM enterprise ORDER BY id LIMIT 1"
            )).one()  # fmt: skip
        statements.clear()
        district.data(
            "{ enterprises(first: 5) { totalCount edges { node { name area { name } } } } }"
        )
        assert statements.count(replica_port) == 2  # the page, areas built in, and its count
        assert statements.count(primary_port) == 1  # the caller's account, kept from now on
        statements.clear()
        record = """mutation ($at: GeoJSON!, $id: ID!) { recordInspection(input: {
            idempotencyKey: "replica-test", targetId: $id, at: "2020-02-28T09:00:00+08:00",
            location: $at, findings: "ok", gpsAccuracyMeters: 5}) { id target { ... on Enterprise { name } } } }"""
        location = {"type": "Point", "coordinates": [lon, lat]}
        try:
            # The write, and the reads of the answer after it, go to the primary.
            inspection = district.data(record, at=location, id=f"Enterprise:{target}")
            assert inspection["recordInspection"]["target"]["name"]
            assert statements and replica_port not in statements
            # The replica follows within moments.
            query = f'{{ node(id: "{inspection["recordInspection"]["id"]}") {{ id }} }}'
            deadline = time.monotonic() + 10
            while district.data(query)["node"] is None:
                assert time.monotonic() < deadline, "the replica did not catch up"
                time.sleep(0.1)
        finally:
            with engine.begin() as connection:
                connection.execute(
                    text("DELETE FROM inspection WHERE idempotency_key = 'replica-test'")
                )
