"""inspections recorded from the field

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No release wrote inspections before this one: the table is empty, so NOT NULL is safe.
    op.add_column("inspection", sa.Column("account_id", sa.Integer(), nullable=False))
    op.add_column("inspection", sa.Column("idempotency_key", sa.String(length=200), nullable=False))
    op.add_column(
        "inspection",
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column("inspection", sa.Column("distance_m", sa.Float(), nullable=False))
    op.add_column("inspection", sa.Column("gps_accuracy_m", sa.Float(), nullable=True))
    op.create_unique_constraint(
        "inspection_idempotency", "inspection", ["account_id", "idempotency_key"]
    )
    op.create_index(op.f("ix_inspection_account_id"), "inspection", ["account_id"], unique=False)
    op.create_foreign_key(
        "inspection_account_id_fkey", "inspection", "account", ["account_id"], ["id"]
    )
    op.drop_column("inspection", "inspector")


def downgrade() -> None:
    op.add_column(
        "inspection",
        sa.Column("inspector", sa.VARCHAR(length=64), autoincrement=False, nullable=False),
    )
    op.drop_constraint("inspection_account_id_fkey", "inspection", type_="foreignkey")
    op.drop_index(op.f("ix_inspection_account_id"), table_name="inspection")
    op.drop_constraint("inspection_idempotency", "inspection", type_="unique")
    op.drop_column("inspection", "gps_accuracy_m")
    op.drop_column("inspection", "distance_m")
    op.drop_column("inspection", "recorded_at")
    op.drop_column("inspection", "idempotency_key")
    op.drop_column("inspection", "account_id")
