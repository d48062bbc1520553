"""The two PostgreSQL roles fugong uses, and what the serving one may do.

- OWNER owns the schema: `fugong migrate`, `seed`, `user` and `import-roads` connect as it.
- APP is what `fugong serve` connects as: it reads and writes rows, and nothing more. No DDL
  (it owns nothing and may not CREATE in the schema), no TRUNCATE, no superuser (so no
  `session_replication_role`, no `COPY … TO PROGRAM`, no disabling triggers), INSERT and SELECT
  only on the append-only logs, SELECT only on what requests never write. Row-level security
  (migrations/sql/row_security.sql) applies to it, never to the owner.

Locally both are created with the cluster; with DATABASE_URL (APP) and DATABASE_OWNER_URL
(OWNER), an administrator creates them (README, "Two roles").
"""

from __future__ import annotations

from sqlalchemy import Connection, text

OWNER = "fugong_owner"
APP = "fugong_app"
APPEND_ONLY = ("flag_change", "audit_log")
# Written by the owner's commands only (seed, import-roads, user add), read by requests.
READ_ONLY = (
    "area",
    "account",
    "account_zone",
    "road",
    "road_vertex",
    "road_network",
    "spatial_ref_sys",
    "alembic_version",
)


# Written only by triggers that run as the owner (the hash chains of the logs).
NO_ACCESS = ("history_chain", "history_pending", "history_due")


def create_statement(role: str) -> str:
    """Creates `role` if missing (needs CREATEROLE: the local cluster's superuser)."""
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')"
        f" THEN CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION; END IF; END $$"
    )


def grant(connection: Connection, app: str = APP) -> None:
    """Give `app` what requests need on every table now in the schema, and no more; run by
    `fugong migrate` after each upgrade, so a new table is covered the moment it exists."""
    quoted = connection.dialect.identifier_preparer.quote(app)
    for statement in (
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE CREATE ON SCHEMA public FROM {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        *(f"REVOKE UPDATE, DELETE ON {t} FROM {quoted}" for t in APPEND_ONLY),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {t} FROM {quoted}" for t in READ_ONLY),
        *(f"REVOKE ALL ON {t} FROM {quoted}" for t in NO_ACCESS),
    ):
        connection.execute(text(statement))
