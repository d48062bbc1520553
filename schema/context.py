"""One context per request: the caller, database access run off the event loop, fresh loaders,
and the personal data read, to be audited before the response leaves."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from geo import accounts
from geo.db import Databases
from geo.flag_rules import DEFAULT_THRESHOLDS, Thresholds
from geo.inspections import DEFAULT_FENCE, Fence
from geo.scope import ANONYMOUS, Caller

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
    # Opens a queue of committed flag changes (geo.live.Listener.subscribe): the app's own.
    flag_changes: Callable[[], AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]] = (
        _no_live_changes
    )
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init
    caller: Caller = ANONYMOUS
    # A WebSocket names its caller once, at connection_init, and lives on: its operations and
    # events check the account again (refresh_caller). An HTTP request was checked on arrival.
    websocket: bool = False
    personal_reads: list[tuple[str, str]] = field(default_factory=list)  # (node id, field)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wrote: bool = False
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    async def run(self, work: Callable[..., T], *args: Any, primary: bool = False) -> T:
        """`work(session, *args)` in a worker thread, so sync SQL never blocks the event loop;
        on a replica when there is one, unless `primary` or this request has written (a
        replica may lag behind what the caller has just changed)."""
        read = functools.partial(self.databases.read, primary=primary or self._wrote)
        return await self._off_loop(read, work, *args)

    async def write(self, work: Callable[..., T], *args: Any) -> T:
        """`work` on the primary in one transaction: committed when it returns, else rolled
        back; the rest of the request then reads the primary too."""
        self._wrote = True
        return await self._off_loop(self.databases.write, work, *args)

    async def read_else_write(
        self, read: Callable[..., T | None], write: Callable[..., T], *args: Any
    ) -> T:
        """What `read` finds (a replica will do), else what `write` builds on the primary."""
        found = await self.run(read, *args)
        return found if found is not None else await self.write(write, *args)

    async def _off_loop(self, call: Callable[..., T], *args: Any) -> T:
        async with self._lock:  # one statement at a time per request, as a session requires
            return await anyio.to_thread.run_sync(call, *args)

    async def refresh_caller(self) -> Caller:
        """The caller as their account stands now (geo.accounts.current): Unauthenticated once
        the token has expired or the account is disabled. Loaders start afresh, since what they
        hold was read for the caller as they were."""
        self.caller = await self.run(accounts.current, self.caller, primary=True)
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
