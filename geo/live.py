"""Changes as they are committed, heard through PostgreSQL LISTEN/NOTIFY: flag changes for
their subscribers, account changes for the callers the process keeps (geo/callers.py).

Every process listens on its own connection, so a change committed through any process (or
host) reaches the subscribers of all of them; the callers a process keeps are trusted only while
it listens.

The connection outlives the database going away: when it is lost it is opened again, with a
backoff doubling up to RECONNECT_MAX_S, and the subscribers stay subscribed and hear the
changes committed once it is back. One log line says it was lost, one that it is back; the
retries between them say nothing; `wake()` (called by /ready once the database answers) cuts
the backoff short. Changes committed while it is down are not heard:
subscribers that must not miss one reread flagHistory after a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import psycopg2
import psycopg2.extensions

from geo.callers import Callers
from geo.outage import first_line

log = logging.getLogger("fugong.live")

CHANNEL = "flag_changed"
ACCOUNTS_CHANNEL = "account_changed"  # migration 0020's trigger
QUEUE_SIZE = 1000  # per subscriber; a subscriber that falls this far behind loses the oldest
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 10.0
# A connection to a host that vanished (no reset, no FIN) is noticed by TCP keepalives, and a
# connection attempt to one gives up, within about half a minute.
CONNECT_OPTIONS: dict[str, Any] = {
    "application_name": "fugong-listener",
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class Listener:
    """One LISTEN connection per process, fanned out to its subscribers' queues; account
    changes, and the connection's coming and going, told to `callers` (None: kept nowhere)."""

    def __init__(self, dsn: str, callers: Callers | None = None) -> None:
        self.dsn = dsn
        self.callers = callers
        self.queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._connection: psycopg2.extensions.connection | None = None
        self._fd: int | None = None  # kept: a closed connection no longer tells its fileno()
        self._lost: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None  # cuts a backoff short

    @property
    def connected(self) -> bool:
        """Whether changes are being heard now (False until start() or a first subscriber)."""
        return self._connection is not None

    def start(self) -> None:
        """Listen from now on, not only from the first subscriber: readiness (/ready) reads
        `connected`, and the first change after start is heard."""
        self._start()

    def wake(self) -> None:
        """Try again now rather than at the end of the backoff: the database is known back."""
        if self._wake is not None:
            self._wake.set()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of change payloads, from the moment this returns until the block exits. While
        the database is away the queue stays open and fills again once it is back."""
        self._start()
        assert self._listening is not None
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.queues.add(queue)
        try:
            # A subscriber waits for LISTEN (at most as long as a connection attempt), so that
            # a change made right after it subscribed is heard.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), CONNECT_OPTIONS["connect_timeout"])
            yield queue
        finally:
            self.queues.discard(queue)

    def _start(self) -> None:
        if self._task is None:
            self._lost, self._listening = asyncio.Event(), asyncio.Event()
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._keep_listening(), name="fugong-listener")

    async def _keep_listening(self) -> None:
        assert self._lost is not None and self._listening is not None and self._wake is not None
        failures = 0  # attempts since the connection was last up; the loss was logged as one
        while True:
            try:
                connection = await asyncio.to_thread(self._connect)
            except psycopg2.Error as error:
                if failures == 0:
                    log.warning("cannot LISTEN for flag changes (%s); retrying", first_line(error))
                failures += 1
                backoff_s = min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2 ** (failures - 1))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), backoff_s)
                continue
            if failures:
                log.warning("listening for flag changes again, after %d attempts", failures + 1)
            self._connection, self._fd = connection, connection.fileno()
            asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
            if self.callers is not None:
                self.callers.hearing(True)
            self._listening.set()
            await self._lost.wait()  # _on_readable has logged the loss
            self._lost.clear()
            failures = 1

    def _connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self.dsn, **CONNECT_OPTIONS)
        connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
            if self.callers is not None:
                cursor.execute(f"LISTEN {ACCOUNTS_CHANNEL}")
        return connection

    def _on_readable(self) -> None:
        connection = self._connection
        assert connection is not None
        try:
            connection.poll()
        except psycopg2.Error as error:
            log.warning("lost the LISTEN connection (%s); reconnecting", first_line(error))
            self._drop()
            return
        while connection.notifies:
            notify = connection.notifies.pop(0)
            if notify.channel == ACCOUNTS_CHANNEL and self.callers is not None:
                self.callers.forget()
                continue
            payload = orjson.loads(notify.payload)
            for queue in self.queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(payload)

    def _drop(self) -> None:
        """Stop watching the connection and close it; the listening task then opens another."""
        if self.callers is not None:
            self.callers.hearing(False)
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._listening is not None and self._lost is not None:
            self._listening.clear()
            self._lost.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._drop()
