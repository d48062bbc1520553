"""One context per request: the caller, database access run off the event loop, fresh loaders,
and the personal data read, to be audited before the response leaves."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from geo.callers import Callers
from geo.db import Databases
from geo.errors import RateLimited
from geo.flag_rules import DEFAULT_THRESHOLDS, Thresholds
from geo.inspections import DEFAULT_FENCE, Fence
from geo.retention import DEFAULT_RETENTION, Retention
from geo.scope import ANONYMOUS, Caller
from geo.throttle import DEFAULT_LOGIN_LIMITS, LoginLimits

T = TypeVar("T")


def _no_live_changes() -> AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]:
    raise RuntimeError("this context was made without a flag change listener")


@dataclass
class Context:
    databases: Databases  # the primary, and replicas for reads
    max_page_size: int
    max_features: int
    issue_token: Callable[[int], str]
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    fence: Fence = DEFAULT_FENCE
    retention: Retention = DEFAULT_RETENTION  # which days' route plans are stored
    # Opens a queue of committed flag changes (geo.live.Listener.subscribe): the app's own.
    flag_changes: Callable[[], AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]] = (
        _no_live_changes
    )
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init
    caller: Caller = ANONYMOUS
    callers: Callers = field(default_factory=Callers)  # the app's: accounts as they stand
    # A WebSocket names its caller once, at connection_init, and lives on: its operations and
    # events check the account again (refresh_caller). An HTTP request was checked on arrival.
    websocket: bool = False
    personal_reads: list[tuple[str, str]] = field(default_factory=list)  # (node id, field)
    client_address: str | None = None  # the peer's IP, for login throttling
    login_limits: LoginLimits = DEFAULT_LOGIN_LIMITS
    # The process's login slots (api/app.py), bounding password hashes at once; None: unbounded.
    hashing: asyncio.Semaphore | None = None
    response: Any = None  # strawberry's response under construction: its headers go out
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wrote: bool = False
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    async def run(self, work: Callable[..., T], *args: Any, primary: bool = False) -> T:
        """`work(session, *args)` in a worker thread, so sync SQL never blocks the event loop;
        on a replica when there is one, unless `primary` or this request has written (a
        replica may lag behind what the caller has just changed)."""
        databases = self.databases.acting_for(self.caller)
        read = functools.partial(databases.read, primary=primary or self._wrote)
        return await self._off_loop(read, work, *args)

    async def write(self, work: Callable[..., T], *args: Any) -> T:
        """`work` on the primary in one transaction: committed when it returns, else rolled
        back; the rest of the request then reads the primary too."""
        self._wrote = True
        return await self._off_loop(self.databases.acting_for(self.caller).write, work, *args)

    async def read_else_write(
        self, read: Callable[..., T | None], write: Callable[..., T], *args: Any
    ) -> T:
        """What `read` finds (a replica will do), else what `write` builds on the primary."""
        found = await self.run(read, *args)
        return found if found is not None else await self.write(write, *args)

    async def _off_loop(self, call: Callable[..., T], *args: Any) -> T:
        async with self._lock:  # one statement at a time per request, as a session requires
            return await anyio.to_thread.run_sync(call, *args)

    @asynccontextmanager
    async def login_slot(self) -> AsyncIterator[None]:
        """One of the process's few login slots, waited for briefly: a flood of logins queues
        here, off the thread pool and the database pool, instead of each allocating argon2's
        64 MiB at once."""
        if self.hashing is None:
            yield
            return
        try:
            await asyncio.wait_for(self.hashing.acquire(), self.login_limits.hashing_wait_s)
        except TimeoutError:
            raise RateLimited("the server is busy checking other logins", 1) from None
        try:
            yield
        finally:
            self.hashing.release()

    @asynccontextmanager
    async def rate_limited(self) -> AsyncIterator[None]:
        """A RATE_LIMITED refusal also says when to come back, in HTTP's Retry-After."""
        try:
            yield
        except RateLimited as refusal:
            if self.response is not None:
                self.response.headers["Retry-After"] = str(refusal.retry_after_s)
            raise

    async def refresh_caller(self) -> Caller:
        """The caller as their account stands now (geo.callers): Unauthenticated once the token
        has expired or the account is disabled. Loaders start afresh, since what they hold was
        read for the caller as they were."""
        self.caller = await self.callers.current(self.databases.primary, self.caller)
        self._loaders.clear()
        return self.caller

    def take_personal_reads(self) -> list[tuple[str, str]]:
        """The personal data read since the last call, to be audited with the result that
        carries it (one per request, or one per event of a subscription)."""
        reads, self.personal_reads = self.personal_reads, []
        return reads

    def loader(
        self,
        key: Hashable,
        fetch: Callable[[Session, Sequence[Any]], dict[Any, Any]],
        default: Any = None,
    ) -> DataLoader[Any, Any]:
        """The request's loader for `key`: one query per batch of keys, through `fetch`."""
        if key not in self._loaders:

            async def load(keys: list[Any]) -> list[Any]:
                found = await self.run(fetch, keys)
                return [found.get(k, default) for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]
