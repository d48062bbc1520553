"""Login throttling: counted in PostgreSQL per account and per address, refused as
RATE_LIMITED with Retry-After while blocked, and hashing bounded per process."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from geo import throttle
from geo.db import Databases
from geo.errors import RateLimited
from schema.context import Context

LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }"
FREE = throttle.DEFAULT_LOGIN_LIMITS.account_failures


def attempt(client: TestClient, username: str, password: str) -> tuple[dict, dict]:
    response = client.post("/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}})
    assert response.status_code == 200
    return response.json(), dict(response.headers)


def code(body: dict) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


def test_an_account_is_blocked_after_its_free_failures_even_with_the_right_password(client):
    for _ in range(FREE + 1):
        body, _ = attempt(client, "town", "wrong")
        assert code(body) == "UNAUTHENTICATED"
    body, headers = attempt(client, "town", "demo")
    assert code(body) == "RATE_LIMITED", body
    assert int(headers["retry-after"]) >= 1
    assert "retry in" in body["errors"][0]["message"]
    # Another account from the same address is not held back by it.
    assert code(attempt(client, "district", "demo")[0]) is None


def test_a_success_forgets_the_accounts_failures(client, db: Connection):
    for _ in range(FREE - 1):
        attempt(client, "town", "wrong")
    assert code(attempt(client, "town", "demo")[0]) is None
    left = db.execute(text("SELECT count(*) FROM login_throttle WHERE key = 'account:town'"))
    assert left.scalar_one() == 0


def test_an_address_is_blocked_after_its_free_failures_whatever_the_usernames(sessions):
    limits = dataclasses.replace(throttle.DEFAULT_LOGIN_LIMITS, address_failures=3)
    settings = dataclasses.replace(get_settings(), login_limits=limits)
    with TestClient(create_app(settings, sessions=sessions)) as client:
        for n in range(limits.address_failures + 1):
            assert code(attempt(client, f"nobody{n}", "x")[0]) == "UNAUTHENTICATED"
        assert code(attempt(client, "district", "demo")[0]) == "RATE_LIMITED"


def test_the_counts_are_shared_by_every_process(sessions: sessionmaker[Session]):
    # Two apps (as two workers or hosts would be): the failures made through one block the other.
    with TestClient(create_app(sessions=sessions)) as one, TestClient(create_app(sessions=sessions)) as two:
        for _ in range(FREE + 1):
            attempt(one, "town", "wrong")
        assert code(attempt(two, "town", "demo")[0]) == "RATE_LIMITED"


def test_each_failure_past_the_free_ones_doubles_the_wait(db: Connection, sessions):
    counted = {"account:someone": 2}
    waits = []
    for _ in range(6):
        with sessions() as session, session.begin():
            throttle.record_failure(session, counted)
        waits.append(db.execute(text(
            "SELECT extract(epoch FROM blocked_until - last_failure) FROM login_throttle"
            " WHERE key = 'account:someone'"
        )).scalar_one())  # fmt: skip
    assert [float(w) for w in waits] == [0, 0, 1, 2, 4, 8]


def test_hashing_is_bounded_per_process(sessions):
    limits = dataclasses.replace(throttle.DEFAULT_LOGIN_LIMITS, hashing=1, hashing_wait_s=0.05)
    context = Context(
        databases=Databases(sessions), max_page_size=10, max_features=10, issue_token=str,
        login_limits=limits, hashing=asyncio.Semaphore(1),
    )

    async def two_at_once() -> None:
        async with context.login_slot():
            with pytest.raises(RateLimited, match="busy"):
                async with context.login_slot():
                    pass
        async with context.login_slot():  # released: the next one gets in
            pass

    asyncio.run(two_at_once())


def test_the_limits_are_configurable(monkeypatch):
    monkeypatch.setenv("FUGONG_LOGIN_ACCOUNT_FAILURES", "3")
    monkeypatch.setenv("FUGONG_HASHING_CONCURRENCY", "4")
    get_settings.cache_clear()
    try:
        limits = get_settings().login_limits
        assert (limits.account_failures, limits.hashing) == (3, 4)
    finally:
        get_settings.cache_clear()
