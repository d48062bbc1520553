"""A real PostGIS for the whole suite: a fresh database, migrated and seeded once per session;
each test runs in a transaction that is rolled back, however much the code under test commits."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

import migrations
from api import localdb, roles
from api.app import create_app
from api.auth import issue_token
from api.settings import get_settings
from geo import seed
from geo.db import make_engine, sqlalchemy_url

# The suite asks for introspection (GraphiQL's query is among its cases); a deployment does not.
os.environ.setdefault("FUGONG_INTROSPECTION", "1")
# The demo's days lie in February 2020: the suite (and every server it starts) stores their
# route plans as a district's own days would be.
os.environ.setdefault("FUGONG_PLAN_DAYS_BACK", str(seed.demo_days_back()))


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    server = make_url(sqlalchemy_url(_administrator_url()))
    name = f"fugong_test_{os.getpid()}"
    admin = make_engine(server.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    test_engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    with test_engine.begin() as connection:
        migrations.upgrade(connection)
        seed.seed(connection)
        connection.execute(text(roles.create_statement(roles.APP)))
        roles.grant(connection, roles.APP)
    yield test_engine
    test_engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _administrator_url() -> str:
    """The suite makes and drops databases: as the local cluster's superuser, or DATABASE_URL's
    (or DATABASE_OWNER_URL's) user, which then needs CREATEDB and CREATEROLE."""
    settings = get_settings()
    if configured := settings.database_owner_url or settings.database_url:
        return configured
    localdb.start(settings)
    return localdb.url(settings, localdb.SUPERUSER)


@pytest.fixture(scope="session")
def app_url(engine: Engine) -> str:
    """The test database as the serving role (api/roles.py), as `fugong serve` connects."""
    return engine.url.set(username=roles.APP, password=None).render_as_string(False)


@contextlib.contextmanager
def scratch_database(engine: Engine, suffix: str) -> Iterator[str]:
    """A fresh, empty database on the test server, for tests that must really commit; its URL."""
    name = f"fugong_test_{os.getpid()}_{suffix}"
    admin = make_engine(engine.url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def zone_id(db: Connection) -> int:
    """The demo inspector's patrol zone, in Jinfeng."""
    return db.execute(
        text(
            "SELECT zone_id FROM account_zone JOIN account ON account.id = account_id"
            " WHERE username = 'inspector'"
        )
    ).scalar_one()  # type: ignore[no-any-return]


@contextlib.contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back at the end, whatever ran in it."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def db(engine: Engine) -> Iterator[Connection]:
    with rolled_back(engine) as connection:
        yield connection


@pytest.fixture
def statements(db: Connection) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    event.listen(db, "before_cursor_execute", record)
    yield seen
    event.remove(db, "before_cursor_execute", record)


@pytest.fixture
def sessions(db: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=db, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(sessions=sessions)) as test_client:
        yield test_client


DEMO_PASSWORD = "demo"


class GraphQLClient:
    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST a query; return the whole response body (data and errors)."""
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def login(self, username: str, password: str = DEMO_PASSWORD) -> GraphQLClient:
        """A client acting as this account, logged in through the API like any other."""
        token = self.data(
            "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }",
            u=username,
            p=password,
        )["login"]
        return GraphQLClient(self.client, token)

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def error(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert body.get("errors"), body
        return body["errors"][0]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def tokens(engine: Engine) -> dict[str, str]:
    """Tokens of the demo accounts, signed once: logging in hashes on purpose slowly."""
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT username, id FROM account")).all()
    return {username: issue_token(get_settings(), account_id) for username, account_id in ids}


@pytest.fixture
def anonymous(client: TestClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def as_user(client: TestClient, tokens: dict[str, str]) -> Callable[[str], GraphQLClient]:
    return lambda username: GraphQLClient(client, tokens[username])


@pytest.fixture
def gql(as_user: Callable[[str], GraphQLClient]) -> GraphQLClient:
    """A district officer: sees every row of the district, personal data masked."""
    return as_user("district")


# Real server processes on a database of their own, for WebSocket tests (session-wide).
from tests.live import live_db, servers  # noqa: E402, F401
