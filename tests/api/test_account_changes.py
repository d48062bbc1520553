"""An account changed with plain SQL (disabled, or given another role) changes what its token may
do at once in every server process, though each keeps the callers it has checked
(geo/callers.py): two real processes on a database of their own (tests/live.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from geo import accounts
from geo.db import make_engine
from geo.models import Role
from tests.live import JINFENG, live_commit, login, post

ME = "{ rentalProperties(first: 1) { totalCount } }"  # scoped: each role sees its own
BOUND_S = 5.0  # how long a change may take to be heard: it is never waited for otherwise


def town_officer(live_db: str) -> str:
    """A new town officer of Jinfeng, committed; their username."""
    username = f"town-{uuid.uuid4().hex[:8]}"
    engine = make_engine(live_db)
    with engine.begin() as connection:
        accounts.create(connection, username, "demo", Role.TOWN_OFFICER, JINFENG)
    engine.dispose()
    return username


def code(base: str, token: str) -> str:
    body = post(base, token, ME)
    return body["errors"][0]["extensions"]["code"] if "errors" in body else "OK"


def count(base: str, token: str) -> int:
    return post(base, token, ME)["data"]["rentalProperties"]["totalCount"]


def soon(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + BOUND_S
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_disabling_an_account_stops_its_token_in_every_process(servers, live_db):
    username = town_officer(live_db)
    token = login(servers[0], username)
    assert [code(base, token) for base in servers] == ["OK", "OK"]  # both now keep the caller
    live_commit(live_db, "UPDATE account SET disabled = true WHERE username = :u", u=username)
    for base in servers:
        assert soon(lambda base=base: code(base, token) == "UNAUTHENTICATED"), base


def test_a_new_role_applies_at_once_in_every_process(servers, live_db):
    username = town_officer(live_db)
    token = login(servers[0], username)
    town = [count(base, token) for base in servers]
    district = count(servers[1], login(servers[1], "district"))
    assert town[0] == town[1] < district
    live_commit(
        live_db,
        "UPDATE account SET role = 'DISTRICT_OFFICER', town_id = NULL WHERE username = :u",
        u=username,
    )
    for base in servers:
        assert soon(lambda base=base: count(base, token) == district), base


def test_a_process_reads_an_account_once_until_an_account_changes(servers, live_db):
    """What makes the check free. A change made with the trigger off is not heard: the process
    that kept the caller still honours its token, while the other reads the account and
    refuses; once a change is heard, the first reads it again."""
    first, second = servers
    username = town_officer(live_db)
    token = login(first, username)
    assert code(first, token) == "OK"
    live_commit(
        live_db,
        "ALTER TABLE account DISABLE TRIGGER account_changed",
        "UPDATE account SET disabled = true WHERE username = :u",
        "ALTER TABLE account ENABLE ALWAYS TRIGGER account_changed",
        u=username,
    )
    assert code(first, token) == "OK"
    assert code(second, token) == "UNAUTHENTICATED"
    live_commit(live_db, "UPDATE account SET disabled = true WHERE username = :u", u=username)
    assert soon(lambda: code(first, token) == "UNAUTHENTICATED")
