"""route plans: the digest of the inputs a plan was last checked against

Revision ID: 0019
Revises: 0015
"""

from alembic import op

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: never checked by digest; the next pull checks the plan's fingerprint and stamps it.
    op.execute("ALTER TABLE route_plan ADD COLUMN inputs text")


def downgrade() -> None:
    op.execute("ALTER TABLE route_plan DROP COLUMN inputs")
