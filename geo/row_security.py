"""Names the caller to PostgreSQL in every transaction, for the row-level security policies
(migrations/sql/row_security.sql) that wall private rows a second time.

A session says whose it is in its info (geo.db.Databases acting for a caller does it); a session
that does not is anonymous to the policies, so a door that forgets sees only public rows (fails
closed).

The naming costs no round trip of its own: it is sent ahead of the transaction's first
statement, in the same message. A read runs in autocommit (geo.db.Databases.read): each of its
statements is then a transaction of its own (PostgreSQL runs a message of several statements as
one), named and made read-only in the same message, so a cheap read is one round trip where
BEGIN, the naming, the statement and ROLLBACK were four.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from geo.scope import Caller

# The key of Session.info that names a session's caller (set by geo.db.Databases).
CALLER_KEY = "caller"
# The execution option of a connection whose next statement (in autocommit: every statement)
# is to name the caller: the policies' settings.
_TO_NAME = "fugong_name_caller"

# set_config(…, true) lasts until the transaction ends, as SET LOCAL does, and takes parameters.
# Its parameters join the statement's own: their names are prefixed so as not to collide.
_NAME_CALLER = (
    "SELECT set_config('fugong.role', %(fugong_role)s, true),"
    " set_config('fugong.account_id', %(fugong_account)s, true),"
    " set_config('fugong.town_id', %(fugong_town)s, true),"
    " set_config('fugong.enterprise_id', %(fugong_enterprise)s, true)"
)
_READ_ONLY = ", set_config('transaction_read_only', 'on', true)"


def settings_of(caller: Caller | None) -> dict[str, str]:
    """The policies' settings for a caller; None (a session that names nobody): anonymous."""
    if caller is None:
        return {"fugong_role": "", "fugong_account": "", "fugong_town": "", "fugong_enterprise": ""}
    return {
        "fugong_role": "" if caller.role is None else caller.role.value,
        "fugong_account": "" if caller.account_id is None else str(caller.account_id),
        "fugong_town": "" if caller.town_id is None else str(caller.town_id),
        "fugong_enterprise": "" if caller.enterprise_id is None else str(caller.enterprise_id),
    }


def name_caller(connection: Connection, caller: Caller | None) -> None:
    """Names `caller` with the connection's next statement (in autocommit: with every one)."""
    connection.execution_options(**{_TO_NAME: settings_of(caller)})


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    name_caller(connection, session.info.get(CALLER_KEY))


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _named(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> tuple[str, Any]:
    """The statement with the naming sent ahead of it, when its transaction has yet to name
    the caller."""
    settings = connection.get_execution_options().get(_TO_NAME)
    if settings is None:
        return statement, parameters
    autocommit = connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
    if not autocommit:
        connection.execution_options(**{_TO_NAME: None})  # the transaction keeps the naming
    if isinstance(parameters, Mapping) and not executemany:
        naming = _NAME_CALLER + _READ_ONLY if autocommit else _NAME_CALLER
        return f"{naming}; {statement}", {**parameters, **settings}
    # A batch, or positional parameters, cannot carry the naming's: it goes first on its own,
    # which only a transaction keeps (reads send neither).
    if autocommit:
        raise RuntimeError("a read in autocommit sent a statement that cannot name its caller")
    connection.exec_driver_sql(_NAME_CALLER, settings)
    return statement, parameters
