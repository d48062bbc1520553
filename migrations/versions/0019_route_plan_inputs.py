"""route plans: the digest of the inputs a plan was last checked against; a rented home's
coordinates, so that a zone's homes are found by index under row-level security

Revision ID: 0019
Revises: 0016
"""

from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: never checked by digest; the next pull checks the plan's fingerprint and stamps it.
    op.execute("ALTER TABLE route_plan ADD COLUMN inputs text")
    # PostGIS operators are not LEAKPROOF, so a policy keeps them out of index scans; float
    # comparisons are, and a btree on the coordinates finds a zone's box (geo/targets.py).
    op.execute(
        "ALTER TABLE rental_property"
        " ADD COLUMN lon double precision GENERATED ALWAYS AS (ST_X(geom)) STORED,"
        " ADD COLUMN lat double precision GENERATED ALWAYS AS (ST_Y(geom)) STORED"
    )
    op.execute("CREATE INDEX ix_rental_property_lon_lat ON rental_property (lon, lat)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_rental_property_lon_lat")
    op.execute("ALTER TABLE rental_property DROP COLUMN lon, DROP COLUMN lat")
    op.execute("ALTER TABLE route_plan DROP COLUMN inputs")
