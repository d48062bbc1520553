"""Names the caller to PostgreSQL at the start of every transaction, for the row-level security
policies (migrations/sql/row_security.sql) that wall private rows a second time.

A session says whose it is in its info (geo.db.Databases acting for a caller does it); a session
that does not is anonymous to the policies, so a door that forgets sees only public rows (fails
closed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from geo.scope import Caller

# The key of Session.info that names a session's caller (set by geo.db.Databases).
CALLER_KEY = "caller"

# set_config(…, true) lasts until the transaction ends, as SET LOCAL does, and takes parameters.
_NAME_CALLER_SQL = "SELECT set_config('fugong.role', "
_NAME_CALLER = text(
    f"{_NAME_CALLER_SQL}:role, true),"
    " set_config('fugong.account_id', :account, true),"
    " set_config('fugong.town_id', :town, true),"
    " set_config('fugong.enterprise_id', :enterprise, true)"
)


def names_caller(statement: str) -> bool:
    """Whether a statement is the one that opens each transaction naming its caller."""
    return statement.startswith(_NAME_CALLER_SQL)


def settings_of(caller: Caller | None) -> dict[str, str]:
    """The policies' settings for a caller; None (a session that names nobody): anonymous."""
    if caller is None:
        return {"role": "", "account": "", "town": "", "enterprise": ""}
    return {
        "role": "" if caller.role is None else caller.role.value,
        "account": "" if caller.account_id is None else str(caller.account_id),
        "town": "" if caller.town_id is None else str(caller.town_id),
        "enterprise": "" if caller.enterprise_id is None else str(caller.enterprise_id),
    }


def name_caller(connection: Connection, caller: Caller | None) -> None:
    connection.execute(_NAME_CALLER, settings_of(caller))


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    name_caller(connection, session.info.get(CALLER_KEY))
