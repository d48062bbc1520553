"""Names the caller to PostgreSQL at the start of every transaction, for the row-level security
policies (migrations/sql/row_security.sql) that wall private rows a second time.

A session says whose it is with `sessions(info={"caller": caller})`; a session that does not
is anonymous to the policies, so a door that forgets sees only public rows (fails closed).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from geo.scope import ANONYMOUS, Caller

CALLER = "caller"
# set_config(…, true) lasts until the transaction ends, as SET LOCAL does, and takes parameters.
_NAME_CALLER_SQL = "SELECT set_config('fugong.role', "
_NAME_CALLER = text(
    f"{_NAME_CALLER_SQL}:role, true),"
    " set_config('fugong.account_id', :account, true),"
    " set_config('fugong.town_id', :town, true)"
)


def names_caller(statement: str) -> bool:
    """Whether a statement is the one that opens each transaction naming its caller."""
    return statement.startswith(_NAME_CALLER_SQL)


def settings_of(caller: Caller) -> dict[str, str]:
    return {
        "role": "" if caller.role is None else caller.role.value,
        "account": "" if caller.account_id is None else str(caller.account_id),
        "town": "" if caller.town_id is None else str(caller.town_id),
    }


def name_caller(connection: Connection, caller: Caller) -> None:
    connection.execute(_NAME_CALLER, settings_of(caller))


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    name_caller(connection, session.info.get(CALLER, ANONYMOUS))


def session_for(sessions: sessionmaker[Session], caller: Caller) -> Session:
    """A session whose every transaction is the caller's to the policies."""
    return sessions(info={CALLER: caller})
