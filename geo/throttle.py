"""Failed logins counted in PostgreSQL, per account and per client address, so every process
and host sees the same counts: past a few free failures each one doubles the wait (1 s, 2 s,
4 s … up to 15 minutes), refused as RATE_LIMITED without hashing; a quiet quarter of an hour
forgets them, and a success forgets the account's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.errors import RateLimited

MAX_WAIT_S = 15 * 60
FORGET_AFTER_S = 15 * 60


@dataclass(frozen=True)
class LoginLimits:
    account_failures: int = 5  # free failures per account before the waits start
    address_failures: int = 20  # per client address (several people may share one)
    hashing: int = 1  # password hashes at once per process (argon2: 64 MiB and a core each)
    hashing_wait_s: float = 2.0  # how long a login waits for a hashing slot


DEFAULT_LOGIN_LIMITS = LoginLimits()


def keys(limits: LoginLimits, username: str, address: str | None) -> dict[str, int]:
    """The counters a login attempt touches, each with its free failures."""
    counted = {f"account:{username.strip().lower()}": limits.account_failures}
    if address:
        counted[f"address:{address}"] = limits.address_failures
    return counted


def refuse_if_blocked(session: Session, counted: dict[str, int]) -> None:
    wait = session.execute(
        text(
            "SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::int"
            " FROM login_throttle WHERE key = ANY(:keys) AND blocked_until > now()"
        ),
        {"keys": list(counted)},
    ).scalar_one()
    if wait is not None:
        raise RateLimited("too many failed logins for this account or address", max(wait, 1))


def record_failure(session: Session, counted: dict[str, int]) -> None:
    """Count one failure on each key, atomically however many fail at once."""
    for key, free in counted.items():
        session.execute(
            _FAILED, {"key": key, "free": free, "most": MAX_WAIT_S, "forget": FORGET_AFTER_S}
        )


def record_success(session: Session, counted: dict[str, int]) -> None:
    account = [key for key in counted if key.startswith("account:")]
    session.execute(text("DELETE FROM login_throttle WHERE key = ANY(:keys)"), {"keys": account})


# The failures after this one: a quiet spell forgets the earlier ones.
_COUNT = (
    "(CASE WHEN t.last_failure < now() - make_interval(secs => :forget)"
    " THEN 1 ELSE t.failures + 1 END)"
)
_FAILED = text(
    f"""
    INSERT INTO login_throttle AS t (key, failures, last_failure, blocked_until)
    VALUES (:key, 1, now(), now())
    ON CONFLICT (key) DO UPDATE SET
        failures = {_COUNT},
        last_failure = now(),
        blocked_until = now() + CASE WHEN {_COUNT} > :free
            THEN make_interval(secs => least(power(2, {_COUNT} - :free - 1), :most))
            ELSE interval '0' END
    """  # noqa: S608 (constant pieces)
)
