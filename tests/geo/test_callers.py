"""The callers a process keeps (geo/callers.py) are kept only while account changes can be heard:
a listener held off the database (its role refused logins) makes every check read the account,
so a change it cannot hear still stops the token at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from geo import accounts
from geo.callers import Callers
from geo.db import libpq_url, make_engine, make_sessionmaker
from geo.errors import Unauthenticated
from geo.live import Listener
from geo.models import Role
from tests.live import live_commit

BOUND_S = 10.0


class CountedSessions:
    """A sessionmaker that counts the sessions opened: each is one read of an account."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.opened = 0

    def __call__(self) -> Session:
        self.opened += 1
        return self.sessions()


@pytest.fixture
def listener_role(live_db: str) -> Iterator[str]:
    """A role of its own for the listener, so a test can refuse it logins; its URL."""
    role = f"listener_{uuid.uuid4().hex[:8]}"
    live_commit(live_db, f"CREATE ROLE {role} LOGIN PASSWORD '{role}'")
    yield make_url(live_db).set(username=role, password=role).render_as_string(False)
    live_commit(live_db, f"DROP ROLE {role}")


async def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND_S
    while not check():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


def test_while_the_listener_is_down_every_check_reads_the_account(live_db, listener_role):
    role = make_url(listener_role).username
    engine = make_engine(live_db)
    with engine.begin() as connection:
        account_id = accounts.create(connection, f"town-{uuid.uuid4().hex[:8]}", "demo",
                                     Role.TOWN_OFFICER, "350112109")  # fmt: skip
    engine.dispose()
    sessions = CountedSessions(live_db)
    # Its change is not heard by anyone: only a read finds it.
    unheard = (
        "ALTER TABLE account DISABLE TRIGGER account_changed",
        "UPDATE account SET disabled = true WHERE id = :account",
        "ALTER TABLE account ENABLE ALWAYS TRIGGER account_changed",
    )

    async def scenario() -> list[int]:
        callers = Callers()
        listener = Listener(libpq_url(listener_role), callers)
        listener.start()
        reads = []
        try:
            await until(lambda: listener.connected)
            for _ in range(3):
                await callers.of(sessions, account_id)
            reads.append(sessions.opened)  # read once, then kept
            live_commit(live_db, f"ALTER ROLE {role} NOLOGIN",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role",
                        role=role)  # fmt: skip
            await until(lambda: not listener.connected)
            for _ in range(3):
                await callers.of(sessions, account_id)
            reads.append(sessions.opened)  # each read
            live_commit(live_db, *unheard, account=account_id)
            with pytest.raises(Unauthenticated):
                await callers.of(sessions, account_id)
            live_commit(live_db, f"ALTER ROLE {role} LOGIN")
            listener.wake()
            await until(lambda: listener.connected)
            with pytest.raises(Unauthenticated):
                await callers.of(sessions, account_id)
        finally:
            await listener.close()
            sessions.engine.dispose()
        return reads

    assert asyncio.run(scenario()) == [1, 4]
