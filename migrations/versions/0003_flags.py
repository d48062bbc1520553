"""flags: stored state, append-only history, signboards

Revision ID: 0003
Revises: 0002

Frozen history: it imports no live code. Rows already present fly the default flag of a row
without a report (red, "no status report yet"); `fugong reassess` (run by `make run` after
migrating) then applies today's rules with the configured thresholds and writes each target's
first history row, dated when its status was last reported.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import sql_file

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TARGET_TABLES = ("enterprise", "construction_site")
FLAG_COLOR = postgresql.ENUM("GREEN", "YELLOW", "RED", name="flag_color", create_type=False)
FLAG_SOURCE = postgresql.ENUM(
    "RULE", "OVERRIDE", "OVERRIDE_CLEARED", name="flag_source", create_type=False
)


def upgrade() -> None:
    FLAG_COLOR.create(op.get_bind())
    FLAG_SOURCE.create(op.get_bind())
    op.add_column(
        "construction_site",
        sa.Column("problems", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    for table in TARGET_TABLES:
        # What a row without a report flies (rows present now included) until it is assessed.
        op.add_column(
            table, sa.Column("flag_color", FLAG_COLOR, nullable=False, server_default="RED")
        )
        op.add_column(
            table,
            sa.Column(
                "flag_reason", sa.Text(), nullable=False, server_default="no status report yet"
            ),
        )
        op.add_column(
            table,
            sa.Column(
                "flag_since",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("now()"),
            ),
        )
        op.add_column(
            table,
            sa.Column("flag_overridden", sa.Boolean(), server_default=sa.false(), nullable=False),
        )
    op.create_table(
        "flag_change",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("construction_site_id", sa.Integer(), nullable=True),
        sa.Column("from_color", FLAG_COLOR, nullable=True),
        sa.Column("to_color", FLAG_COLOR, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("source", FLAG_SOURCE, nullable=False),
        sa.CheckConstraint(
            "num_nonnulls(enterprise_id, construction_site_id) = 1",
            name="flag_change_one_target",
        ),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.ForeignKeyConstraint(["construction_site_id"], ["construction_site.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flag_change_at", "flag_change", ["at"])
    for fk, name in (("enterprise_id", "enterprise"), ("construction_site_id", "site")):
        op.create_index(
            f"ix_flag_change_{name}_at",
            "flag_change",
            [fk, sa.text("at DESC"), sa.text("id DESC")],
            postgresql_include=["to_color"],
            postgresql_where=sa.text(f"{fk} IS NOT NULL"),
        )
    # History is written once and never rewritten, whoever asks.
    op.execute(
        "CREATE TRIGGER flag_change_append_only BEFORE UPDATE OR DELETE ON flag_change"
        " FOR EACH STATEMENT EXECUTE FUNCTION fugong_append_only()"
    )
    op.execute(sql_file("flags.sql"))
    op.create_table(
        "signboard",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("days", postgresql.DATEMULTIRANGE(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("enterprise_id"),
    )
    op.execute(
        "INSERT INTO signboard (enterprise_id, days)"
        " SELECT id, datemultirange(daterange(signboard_updated_on, signboard_updated_on, '[]'))"
        " FROM enterprise WHERE signboard_updated_on IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("signboard")
    op.execute("DROP FUNCTION fugong_notify_flag_change(bigint)")
    op.execute("DROP TRIGGER flag_change_append_only ON flag_change")
    op.drop_table("flag_change")
    for table in TARGET_TABLES:
        for column in ("flag_overridden", "flag_since", "flag_reason", "flag_color"):
            op.drop_column(table, column)
    op.drop_column("construction_site", "problems")
    FLAG_SOURCE.drop(op.get_bind())
    FLAG_COLOR.drop(op.get_bind())
