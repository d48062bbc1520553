"""One context per request: its database access, run off the event loop, and fresh loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker
from strawberry.dataloader import DataLoader

T = TypeVar("T")


@dataclass
class Context:
    sessions: sessionmaker[Session]
    max_page_size: int
    max_features: int
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)` in a worker thread, so sync SQL never blocks the event loop."""
        async with self._lock:  # one statement at a time per request, as a session requires
            return await anyio.to_thread.run_sync(self._in_session, work, args)

    def _in_session(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.sessions() as session:
            return work(session, *args)

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
