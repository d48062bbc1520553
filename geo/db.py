"""Engines and sessions: the one seam between fugong and its PostgreSQL server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg2.extensions import STATUS_READY
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from geo.row_security import CALLER_KEY

if TYPE_CHECKING:
    from geo.scope import Caller

T = TypeVar("T")
Executor = Session | Connection  # what domain functions run their statements on


def sqlalchemy_url(url: str) -> str:
    """DATABASE_URL as libpq knows it (postgresql://…) → the psycopg2 driver's URL."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


# Asia/Shanghai: the district's day. No parallel workers: an API statement reads a page or a
# viewport in a millisecond or two, and starting a worker costs ~10 ms (at 1M rows the planner
# starts one for a 100-enterprise page, which then takes 20 ms instead of 3.6).
SESSION_OPTIONS = "-c timezone=Asia/Shanghai -c max_parallel_workers_per_gather=0"
# A pooled connection that has sat idle this long is pinged before use; one used more recently
# is not (the ping was a round trip per transaction under load). A server lost in that second
# fails the transaction as it would have failed one under way, and the pool then opens afresh.
PING_IDLE_S = 1.0


@dataclass(frozen=True)
class Timeouts:
    """The server's limits on a serving connection (0: none): a statement, a wait for a lock,
    a transaction left idle; and how long to wait for a connection to open."""

    statement_ms: int = 10_000
    lock_ms: int = 2_000
    idle_in_transaction_ms: int = 30_000
    connect_s: int = 3

    @property
    def options(self) -> str:
        return (
            f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms}"
            f" -c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


def make_engine(url: str, pool_size: int = 8, timeouts: Timeouts | None = None) -> Engine:
    """An engine for `url`; with `timeouts` (the server's connections), limited by them.
    Scripts (migrate, seed, import) run without: a million-row seed takes minutes."""
    options = SESSION_OPTIONS if timeouts is None else f"{SESSION_OPTIONS} {timeouts.options}"
    connect_args: dict[str, object] = {"application_name": "fugong", "options": options}
    if timeouts is not None and timeouts.connect_s:
        connect_args["connect_timeout"] = timeouts.connect_s
    engine = create_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # None: opened for this checkout
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_S:
            return
        try:
            # In autocommit, so that the ping leaves no transaction open behind it: a read
            # then turns autocommit on (Databases.read), which psycopg2 refuses mid-transaction.
            dbapi_connection.autocommit = True
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.autocommit = False
        except engine.dialect.loaded_dbapi.Error:
            # As pool_pre_ping does: the pool opens this connection and its elders anew.
            raise exc.InvalidatePoolError() from None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class Databases:
    """The primary, and streaming replicas for reads (None: the primary reads too), acting for
    one caller, whom every transaction names to PostgreSQL's row-level security (None:
    anonymous). Each call runs `work(session, *args)` in a session of its own; every door reads
    and writes through these three, so "read on a replica, else build on the primary" is
    written once."""

    primary: sessionmaker[Session]
    replica: sessionmaker[Session] | None = None
    caller: Caller | None = None

    def acting_for(self, caller: Caller) -> Databases:
        return dataclasses.replace(self, caller=caller)

    def read(self, work: Callable[..., T], *args: Any, primary: bool = False) -> T:
        """On a replica, unless `primary` (a replica may lag behind the caller's own write).
        In autocommit: each statement is a read-only transaction of its own, named and run in
        one round trip (geo.row_security), as READ COMMITTED would give each its own snapshot
        anyway."""
        sessions = self.primary if primary or self.replica is None else self.replica
        with self._session(sessions) as session:
            # On the driver's connection, not as SQLAlchemy's isolation level: setting that back
            # costs psycopg2 a statement, and this nothing. A session bound into a transaction
            # of its maker's (the tests roll theirs back) reads in that transaction.
            driver = session.connection().connection.dbapi_connection
            if driver is None or driver.status != STATUS_READY:
                return work(session, *args)
            driver.autocommit = True
            try:
                return work(session, *args)
            finally:
                if not driver.closed:  # lost on the way: the pool drops it
                    driver.autocommit = False

    def write(self, work: Callable[..., T], *args: Any) -> T:
        """On the primary in one transaction: committed when `work` returns, else rolled back."""
        with self._session(self.primary) as session, session.begin():
            return work(session, *args)

    def read_else_write(
        self, read: Callable[..., T | None], write: Callable[..., T], *args: Any
    ) -> T:
        """What `read` finds on a replica (a kept tile, a stored plan); when it finds nothing,
        what `write` builds and keeps on the primary."""
        found = self.read(read, *args)
        return found if found is not None else self.write(write, *args)

    def _session(self, sessions: sessionmaker[Session]) -> Session:
        return sessions(info={} if self.caller is None else {CALLER_KEY: self.caller})


def libpq_url(url: str) -> str:
    """The URL as libpq itself takes it, for connections made without SQLAlchemy."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url
