"""daily health registration (一日一登记) as counts, quarantine occupancy per day, ENTERPRISE accounts

Revision ID: 0013
Revises: 0009
"""

from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None

_COUNTS = """
    on_site integer NOT NULL,
    checked integer NOT NULL,
    fever integer NOT NULL,
    isolated integer NOT NULL,
    out_of_province integer NOT NULL,
    dormitory_disinfected boolean,
    reported_at timestamptz NOT NULL,
    reported_by varchar(64) NOT NULL,
    CHECK (fever >= 0 AND fever <= checked AND checked <= on_site AND isolated >= 0
           AND out_of_province >= 0)
"""


def upgrade() -> None:
    # One report per enterprise and day: counts, never persons. A later report of the same day
    # replaces it here, and every version, the first included, is kept in the revision table.
    op.execute(
        f"""
        CREATE TABLE health_report (
            enterprise_id integer NOT NULL REFERENCES enterprise (id) ON DELETE CASCADE,
            day date NOT NULL,
            revision integer NOT NULL,
            {_COUNTS},
            PRIMARY KEY (enterprise_id, day)
        )
        """
    )
    op.execute("CREATE INDEX ix_health_report_day ON health_report (day) INCLUDE (fever, isolated)")
    op.execute(
        f"""
        CREATE TABLE health_report_revision (
            id bigserial PRIMARY KEY,
            enterprise_id integer NOT NULL REFERENCES enterprise (id) ON DELETE CASCADE,
            day date NOT NULL,
            revision integer NOT NULL,
            {_COUNTS},
            UNIQUE (enterprise_id, day, revision)
        )
        """
    )
    op.execute(
        "CREATE TRIGGER health_report_revision_append_only BEFORE UPDATE OR DELETE"
        " ON health_report_revision FOR EACH STATEMENT EXECUTE FUNCTION fugong_append_only()"
    )
    # The fever cases of the enterprise's latest report: a fact the flag rules read.
    op.execute(
        "ALTER TABLE enterprise ADD COLUMN fever_cases integer NOT NULL DEFAULT 0"
        " CONSTRAINT enterprise_fever_cases CHECK (fever_cases >= 0)"
    )
    op.execute(
        """
        CREATE TABLE quarantine_occupancy (
            quarantine_site_id integer NOT NULL REFERENCES quarantine_site (id) ON DELETE CASCADE,
            day date NOT NULL,
            beds_occupied integer NOT NULL CHECK (beds_occupied >= 0),
            recorded_at timestamptz NOT NULL,
            recorded_by varchar(64) NOT NULL,
            PRIMARY KEY (quarantine_site_id, day)
        )
        """
    )
    # A value added by ALTER TYPE cannot be used before its transaction commits (and the test
    # suite migrates and seeds in one): the type is made anew with the value, and swapped in.
    _swap_roles("'DISTRICT_OFFICER', 'TOWN_OFFICER', 'INSPECTOR', 'ENTERPRISE'")
    op.execute(
        "ALTER TABLE account ADD COLUMN enterprise_id integer"
        " REFERENCES enterprise (id) ON DELETE CASCADE"
    )
    op.execute(
        "ALTER TABLE account ADD CONSTRAINT account_enterprise"
        " CHECK ((role = 'ENTERPRISE') = (enterprise_id IS NOT NULL))"
    )


def _swap_roles(values: str) -> None:
    op.execute("ALTER TABLE account DROP CONSTRAINT account_town")
    op.execute("ALTER TYPE account_role RENAME TO account_role_before")
    op.execute(f"CREATE TYPE account_role AS ENUM ({values})")
    op.execute(
        "ALTER TABLE account ALTER COLUMN role TYPE account_role USING role::text::account_role"
    )
    op.execute("DROP TYPE account_role_before")
    op.execute(
        "ALTER TABLE account ADD CONSTRAINT account_town"
        " CHECK ((role = 'TOWN_OFFICER') = (town_id IS NOT NULL))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM account WHERE enterprise_id IS NOT NULL")
    op.execute("ALTER TABLE account DROP CONSTRAINT account_enterprise")
    op.execute("ALTER TABLE account DROP COLUMN enterprise_id")
    _swap_roles("'DISTRICT_OFFICER', 'TOWN_OFFICER', 'INSPECTOR'")
    op.execute("DROP TABLE quarantine_occupancy")
    op.execute("ALTER TABLE enterprise DROP COLUMN fever_cases")
    op.execute("DROP TABLE health_report_revision")
    op.execute("DROP TABLE health_report")
