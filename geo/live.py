"""Flag changes as they are committed, heard through PostgreSQL LISTEN/NOTIFY.

Every process listens on its own connection, so a change committed through any process (or
host) reaches the subscribers of all of them; no process keeps state the others could lack.
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

from geo.outage import first_line

log = logging.getLogger("fugong.live")

CHANNEL = "flag_changed"
QUEUE_SIZE = 1000  # per subscriber; a subscriber that falls this far behind loses the oldest
RECONNECT_S = 1.0


class Listener:
    """One LISTEN connection per process, fanned out to its subscribers' queues."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self.connection: psycopg2.extensions.connection | None = None
        self._starting = asyncio.Lock()
        self._reconnecting: asyncio.Future[None] | None = None
        self._fd = -1

    @property
    def connected(self) -> bool:
        """Whether the LISTEN connection is open (readiness: /ready)."""
        return self.connection is not None

    async def start(self) -> None:
        """Listen from now on, so that readiness can tell; until the database answers, retry."""
        try:
            await self._ensure_listening()
        except psycopg2.Error as error:
            log.warning("cannot LISTEN yet (%s); retrying", first_line(error))
            self._reconnecting = asyncio.ensure_future(self._reconnect())

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of change payloads, from the moment this returns until the block exits."""
        await self._ensure_listening()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.queues.add(queue)
        try:
            yield queue
        finally:
            self.queues.discard(queue)

    async def _ensure_listening(self) -> None:
        async with self._starting:
            if self.connection is None:
                self.connection = await asyncio.to_thread(self._connect)
                # Kept: a connection the server closed no longer tells its descriptor.
                self._fd = self.connection.fileno()
                asyncio.get_running_loop().add_reader(self._fd, self._on_readable)

    def _connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self.dsn, application_name="fugong-listener")
        connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return connection

    def _on_readable(self) -> None:
        assert self.connection is not None
        try:
            self.connection.poll()
        except psycopg2.Error as error:
            log.warning("lost the LISTEN connection (%s); reconnecting", first_line(error))
            self._drop()
            self._reconnecting = asyncio.ensure_future(self._reconnect())
            return
        while self.connection.notifies:
            payload = orjson.loads(self.connection.notifies.pop(0).payload)
            for queue in self.queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(payload)

    async def _reconnect(self) -> None:
        # Changes committed while the connection is down are not heard: subscribers that must
        # not miss one reread flagHistory after a gap.
        # Logged when lost and when back, not at every attempt in between.
        while self.connection is None:
            await asyncio.sleep(RECONNECT_S)
            with contextlib.suppress(psycopg2.Error):
                await self._ensure_listening()
        log.warning("listening for flag changes again")

    def _drop(self) -> None:
        if self.connection is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self.connection.close()
            self.connection = None

    async def close(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        self._drop()

