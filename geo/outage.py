"""The database's failures as fugong's coded errors (geo/errors.py), and one log line for each
change between reachable and unreachable, with a count, instead of a traceback per request."""

from __future__ import annotations

import logging
import threading
import time

import psycopg2
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa

from geo.errors import FugongError, Timeout, Unavailable

log = logging.getLogger("fugong.database")

# SQLSTATEs (PostgreSQL's appendix A): the server cannot take the request now, or ran out of
# time on it. Class 08 is every connection exception.
UNREACHABLE = {"57P01", "57P02", "57P03", "53300"}
TIMED_OUT = {
    "57014": "a statement ran past the server's statement timeout",
    "55P03": "a lock held by another transaction was not released within the lock timeout",
    "25P03": "a transaction sat idle past the idle-in-transaction timeout",
}


def database_failure(error: BaseException) -> FugongError | None:
    """The coded error for a failure of the database itself, or None for any other error."""
    if isinstance(error, sa.TimeoutError):  # every pooled connection busy for pool_timeout
        return Unavailable("every database connection is busy; try again in a moment")
    cause = error.orig if isinstance(error, sa.DBAPIError) else error
    if not isinstance(cause, psycopg2.Error):
        return None
    code = cause.pgcode or ""
    if code in TIMED_OUT:
        return Timeout(f"{TIMED_OUT[code]}; nothing was changed, try again later")
    disconnected = isinstance(error, sa.DBAPIError) and error.connection_invalidated
    if (
        disconnected
        or code.startswith("08")
        or code in UNREACHABLE
        or (isinstance(cause, psycopg2.OperationalError | psycopg2.InterfaceError) and not code)
    ):
        return Unavailable("the database is unavailable; nothing was changed, try again shortly")
    return None


def noted(error: BaseException) -> FugongError | None:
    """The coded error for a database failure, counted in the outage or logged as a timeout
    (one line, no traceback); None for any other error."""
    failure = database_failure(error)
    if isinstance(failure, Unavailable):
        AVAILABILITY.refuse(error)
    elif failure is not None:
        log.warning("%s: %s", failure.code, failure.message)
    return failure


class Availability:
    """Whether this process last found the database reachable. The first refusal logs the
    outage, the first new connection after it logs the recovery and how many were refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.refused = 0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def refuse(self, error: BaseException) -> None:
        with self._lock:
            if self.down_since is None:
                self.down_since, self.refused = time.monotonic(), 0
                reason = first_line(error)
                log.error("database unreachable (%s); answering SERVICE_UNAVAILABLE", reason)
            self.refused += 1

    def reached(self) -> None:
        if self.down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds = time.monotonic() - self.down_since
            log.warning(
                "database reachable again after %.1f s; %d requests answered SERVICE_UNAVAILABLE",
                seconds,
                self.refused,
            )
            self.down_since = None


AVAILABILITY = Availability()


def watch(engine: Engine, availability: Availability = AVAILABILITY) -> None:
    """A new connection of `engine` proves the database reachable again."""
    event.listen(engine, "connect", lambda *_: availability.reached())


def first_line(error: BaseException) -> str:
    cause = error.orig if isinstance(error, sa.DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
