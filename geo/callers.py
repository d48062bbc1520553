"""The caller each account acts as, kept in the process between requests, so that checking a
token costs no round trip while disabling an account (or changing its role, town or
enterprise) still stops its tokens' old rights at once, in every process.

Every statement that updates or deletes accounts NOTIFYs `account_changed` from its own
transaction (a trigger: the API, `fugong user` and plain SQL alike), and geo.live hears it on
the process's LISTEN connection: everything kept is forgotten. While that connection is down or
being opened again, a change could go unheard, so nothing is kept and every check reads the
account (fails closed); once it listens again, what was kept before is forgotten. A connection
lost without a word (its host gone) is noticed by TCP keepalives within about half a minute; in
the meantime the database cannot be reached for the request's own work either.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from geo import accounts
from geo.errors import Unauthenticated
from geo.scope import Caller


class Callers:
    """Reads run in worker threads while changes are heard on the event loop: a read that a
    change (or a lost connection) overtook is not kept, since it may predate the change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int, Caller] = {}
        self._hearing = False  # whether account changes reach forget() now
        self._changes = 0  # changes heard, and connections opened or lost

    async def of(self, sessions: sessionmaker[Session], account_id: int) -> Caller:
        """The caller an enabled account acts as now; Unauthenticated when it is disabled or
        gone."""
        kept = self._kept.get(account_id)
        if kept is not None:
            return kept
        return await anyio.to_thread.run_sync(self._read, sessions, account_id)

    async def current(
        self, sessions: sessionmaker[Session], named: Caller, now: datetime | None = None
    ) -> Caller:
        """The caller as their account stands now, for a connection that named them a while ago
        (a WebSocket): Unauthenticated once their token has expired or the account is
        disabled."""
        if named.anonymous:
            return named
        assert named.account_id is not None
        if named.expires_at is not None and (now or datetime.now(UTC)) >= named.expires_at:
            raise Unauthenticated("the token has expired; log in again")
        caller = await self.of(sessions, named.account_id)
        return replace(caller, expires_at=named.expires_at)

    def forget(self) -> None:
        """An account changed: every caller kept may be stale."""
        with self._lock:
            self._changes += 1
            self._kept.clear()

    def hearing(self, hearing: bool) -> None:
        """Whether changes are heard from now on; either way what was kept is forgotten."""
        with self._lock:
            self._hearing = hearing
            self._changes += 1
            self._kept.clear()

    def _read(self, sessions: sessionmaker[Session], account_id: int) -> Caller:
        changes = self._changes
        with sessions() as session:
            caller = accounts.caller(session, account_id)
        with self._lock:
            if self._hearing and self._changes == changes:
                self._kept[account_id] = caller
        return caller
