"""security: hash chains through the append-only logs, row-level security, login throttling

Revision ID: 0015
Revises: 0007
"""

from alembic import op

from migrations import sql_file

revision = "0015"
down_revision = "0007"
branch_labels = None
depends_on = None

CHAINED = ("flag_change", "audit_log")


def upgrade() -> None:
    op.execute(sql_file("history_chain.sql"))
    for table in CHAINED:
        # The rows already there are chained in id order.
        op.execute(
            f"""
            DO $$
            DECLARE item record; last_hash bytea; position bigint := 0;
            BEGIN
                FOR item IN SELECT * FROM {table} ORDER BY id LOOP
                    position := position + 1;
                    INSERT INTO history_chain (log, position, row_id, prev, hash)
                    VALUES ('{table}', position, item.id, last_hash,
                            fugong_chain_link(last_hash, fugong_chain_content(item)))
                    RETURNING hash INTO last_hash;
                END LOOP;
            END $$
            """  # noqa: S608 (table names of this revision)
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_chain AFTER INSERT ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fugong_chain()"
        )
    op.execute(sql_file("row_security.sql"))
    # Failed logins, per account and per client address, shared by every process and host.
    op.execute(
        """
        CREATE TABLE login_throttle (
            key text PRIMARY KEY,          -- 'account:<name>' or 'address:<ip>'
            failures integer NOT NULL,
            last_failure timestamptz NOT NULL,
            blocked_until timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE login_throttle")
    for table in ("rental_property", "quarantine_site", "patrol_zone", "inspection"):
        op.execute(f"DROP POLICY scope ON {table}")
    for table in ("enterprise", "construction_site", "flag_change"):
        op.execute(f"DROP POLICY public_read ON {table}")
    op.execute("DROP POLICY scoped_change ON enterprise")
    op.execute("DROP POLICY scoped_change ON construction_site")
    op.execute("DROP POLICY logged_in_append ON flag_change")
    op.execute("DROP POLICY district_read ON audit_log")
    op.execute("DROP POLICY own_append ON audit_log")
    for table in (
        "rental_property", "quarantine_site", "patrol_zone", "inspection", "enterprise",
        "construction_site", "flag_change", "audit_log",
    ):
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        "DROP FUNCTION fugong_caller_zones, fugong_caller_zone_ids,"
        " fugong_caller_areas, fugong_caller_account, fugong_caller_role"
    )
    for table in CHAINED:
        op.execute(f"DROP TRIGGER {table}_chain ON {table}")
    op.execute("DROP FUNCTION fugong_chain, fugong_chain_link, fugong_chain_content")
    op.execute("DROP TABLE history_chain")
