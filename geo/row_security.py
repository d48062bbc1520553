"""Names the caller to PostgreSQL at the start of every transaction, for the row-level security
policies (migrations/sql/row_security.sql) that wall private rows a second time.

A session says whose it is in its info (geo.db.Databases acting for a caller does it); a session
that does not is anonymous to the policies, so a door that forgets sees only public rows (fails
closed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg2
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from geo.scope import Caller

# The key of Session.info that names a session's caller (set by geo.db.Databases).
CALLER_KEY = "caller"

# set_config(…, true) lasts until the transaction ends, as SET LOCAL does, and takes parameters.
_NAME_CALLER = (
    "SELECT set_config('fugong.role', %(role)s, true),"
    " set_config('fugong.account_id', %(account)s, true),"
    " set_config('fugong.town_id', %(town)s, true),"
    " set_config('fugong.enterprise_id', %(enterprise)s, true)"
)


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
    settings = settings_of(caller)
    # On the driver's cursor: through SQLAlchemy, this statement took a third of the Python
    # time of a cheap read's transaction. It is not one the app's statement events see.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_NAME_CALLER, settings)
    except psycopg2.Error:
        # Sent again through SQLAlchemy, which fails alike and does what it does with any
        # statement's failure: wraps the error, drops a lost connection from the pool.
        connection.exec_driver_sql(_NAME_CALLER, settings)
        raise
    finally:
        cursor.close()


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    name_caller(connection, session.info.get(CALLER_KEY))
