"""security: hash chains through the append-only logs, row-level security, login throttling

Revision ID: 0015
Revises: 0014
"""

from alembic import op

from migrations import sql_file

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CHAINED = ("flag_change", "audit_log")
IN_ZONES = "ST_Intersects({}, (SELECT fugong_caller_zones()))"
# table: (policy, command, who else passes, what an inspector's scope holds)
SCOPED = {
    "rental_property": ("scope", "ALL", "", IN_ZONES.format("geom")),
    "quarantine_site": ("scope", "ALL", "", IN_ZONES.format("geom")),
    "patrol_zone": ("scope", "ALL", "", "id IN (SELECT unnest(fugong_caller_zone_ids()))"),
    # Recorded a few metres off, over a zone's edge, a visit is still its inspector's.
    "inspection": (
        "scope",
        "ALL",
        "account_id = (SELECT fugong_caller_account()) OR",
        IN_ZONES.format("geom"),
    ),
    # An enterprise account's daily reports (health, signboard) touch its own row.
    "enterprise": (
        "scoped_change",
        "UPDATE",
        "id = (SELECT fugong_caller_enterprise()) OR",
        IN_ZONES.format("geom"),
    ),
    "construction_site": ("scoped_change", "UPDATE", "", IN_ZONES.format("footprint")),
}


def _scope_policy(table: str) -> str:
    """The scope of geo/scope.py as a policy: the caller's role and areas read once a statement."""
    policy, command, also, inspector = SCOPED[table]
    return f"""
        CREATE POLICY {policy} ON {table} FOR {command} USING ({also} CASE (SELECT fugong_caller_role())
            WHEN 'DISTRICT_OFFICER' THEN true
            WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
            WHEN 'INSPECTOR' THEN {inspector}
            ELSE false
        END)
        """


def upgrade() -> None:
    op.execute(sql_file("history_chain.sql"))
    op.execute(sql_file("history_chain_row.sql"))
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
    for table in SCOPED:
        op.execute(_scope_policy(table))
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
    for table, (policy, *_) in SCOPED.items():
        op.execute(f"DROP POLICY {policy} ON {table}")
    for table in ("enterprise", "construction_site", "flag_change"):
        op.execute(f"DROP POLICY public_read ON {table}")
    op.execute("DROP POLICY logged_in_append ON flag_change")
    op.execute("DROP POLICY district_read ON audit_log")
    op.execute("DROP POLICY own_append ON audit_log")
    for table in (
        "rental_property",
        "quarantine_site",
        "patrol_zone",
        "inspection",
        "enterprise",
        "construction_site",
        "flag_change",
        "audit_log",
    ):
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        "DROP FUNCTION fugong_caller_zones, fugong_caller_zone_ids,"
        " fugong_caller_areas, fugong_caller_account, fugong_caller_role, fugong_caller_enterprise"
    )
    for table in CHAINED:
        op.execute(f"DROP TRIGGER {table}_chain ON {table}")
    op.execute("DROP FUNCTION fugong_chain, fugong_chain_link, fugong_chain_content")
    op.execute("DROP TABLE history_chain")
