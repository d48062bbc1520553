"""Accounts: argon2-hashed passwords, roles, and the caller an account acts as."""

from __future__ import annotations

from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.orm import Session

from geo import throttle
from geo.errors import BadInput, NotFound, Unauthenticated
from geo.filters import area_id_of
from geo.models import Account, AccountZone, Area, Enterprise, PatrolZone, Role, table_of
from geo.scope import Caller

HASHER = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = HASHER.hash("not a password anyone has")
MIN_PASSWORD_LENGTH = 4
WRONG_CREDENTIALS = "wrong username or password, or the account is disabled"

account, account_zone = table_of(Account), table_of(AccountZone)


def create(
    session: Session,
    username: str,
    password: str,
    role: Role,
    town_code: str | None = None,
    zone_ids: Sequence[int] = (),
    enterprise_id: int | None = None,
) -> int:
    if not username or len(username) > 64:
        raise BadInput("a username has 1 to 64 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if (role is Role.TOWN_OFFICER) != (town_code is not None):
        raise BadInput("a town officer needs a town, and only a town officer has one")
    if zone_ids and role is not Role.INSPECTOR:
        raise BadInput("only inspectors are given patrol zones")
    if (role is Role.ENTERPRISE) != (enterprise_id is not None):
        raise BadInput("an enterprise account needs its enterprise, and only it has one")
    if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"no enterprise has the id Enterprise:{enterprise_id}")
    town_id = None if town_code is None else _town_id(session, town_code)
    if session.execute(select(account.c.id).where(account.c.username == username)).first():
        raise BadInput(f"the username {username!r} is taken")
    account_id: int = session.execute(
        insert(account)
        .values(
            username=username,
            password_hash=HASHER.hash(password),
            role=role,
            town_id=town_id,
            enterprise_id=enterprise_id,
        )
        .returning(account.c.id)
    ).scalar_one()
    for zone_id in zone_ids:
        if session.get(PatrolZone, zone_id) is None:
            raise NotFound(f"no patrol zone has the id {zone_id}")
        session.execute(insert(account_zone).values(account_id=account_id, zone_id=zone_id))
    return account_id


def _town_id(session: Session, code: str) -> int:
    town_id = area_id_of(session, code)
    level = session.execute(select(table_of(Area).c.level).where(table_of(Area).c.id == town_id))
    if level.scalar_one().value != "TOWN":
        raise BadInput(f"{code} is not a town or street")
    return town_id


def authenticate(session: Session, username: str, password: str) -> int:
    """The id of the enabled account with these credentials, or Unauthenticated."""
    row = session.execute(
        select(account.c.id, account.c.password_hash, account.c.disabled).where(
            account.c.username == username
        )
    ).first()
    try:
        HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or row.disabled:
        raise Unauthenticated(WRONG_CREDENTIALS)
    return row.id


def log_in(session: Session, username: str, password: str, counted: dict[str, int]) -> int | None:
    """The account's id, or None once the failure is counted (to be committed: the caller
    refuses after the transaction, so the count stands); RateLimited while a key is blocked."""
    throttle.refuse_if_blocked(session, counted)
    try:
        account_id = authenticate(session, username, password)
    except Unauthenticated:
        throttle.record_failure(session, counted)
        return None
    throttle.record_success(session, counted)
    return account_id


def caller(session: Session, account_id: int) -> Caller:
    """The caller an enabled account acts as (geo.callers keeps it until an account changes)."""
    row = session.execute(
        select(
            account.c.username,
            account.c.role,
            account.c.town_id,
            account.c.enterprise_id,
            account.c.disabled,
        ).where(account.c.id == account_id)
    ).first()
    if row is None or row.disabled:
        raise Unauthenticated("this account no longer exists or is disabled; log in again")
    return Caller(account_id, row.username, row.role, row.town_id, enterprise_id=row.enterprise_id)


def listing(session: Session) -> Sequence[RowMapping]:
    """Every account with its role, town code and patrol zone ids; no password hashes."""
    area = table_of(Area)
    zones = (
        select(func.array_agg(account_zone.c.zone_id))
        .where(account_zone.c.account_id == account.c.id)
        .scalar_subquery()
    )
    query = (
        select(
            account.c.username,
            account.c.role,
            account.c.disabled,
            area.c.code.label("town_code"),
            zones.label("zone_ids"),
            account.c.enterprise_id,
        )
        .outerjoin(area, area.c.id == account.c.town_id)
        .order_by(account.c.username)
    )
    return session.execute(query).mappings().all()


def set_disabled(session: Session, username: str, disabled: bool = True) -> None:
    done = session.execute(
        update(account)
        .where(account.c.username == username)
        .values(disabled=disabled)
        .returning(account.c.id)
    ).first()
    if done is None:
        raise NotFound(f"no account is named {username!r}")
