"""restorable tile key: fugong_tile_key names PostGIS's schema, so pg_restore can build its index

Revision ID: 0014
Revises: 0013

pg_restore (and pg_dump) run with an empty search_path, so an index expression's functions
must find what they call without one: fugong_tile_key called ST_X and ST_Y unqualified, and
restoring ix_enterprise_tile failed. The same arithmetic, with PostGIS's functions qualified by
the schema the extension lives in (public, unless it was installed elsewhere); the rest is
pg_catalog, which is always searched. Still a plain SQL function, so the planner inlines it and
matches the index as before.
"""

from alembic import op
from sqlalchemy import text

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BODY = """
CREATE OR REPLACE FUNCTION fugong_tile_key(g geometry) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT least(greatest(floor((1 - asinh(tan(radians({p}ST_Y(g)))) / pi()) / 2 * 8192), 0), 8191)::bigint
           * 8192
         + least(greatest(floor(({p}ST_X(g) + 180) / 360 * 8192), 0), 8191)::bigint
$$
"""


def upgrade() -> None:
    schema = (
        op.get_bind()
        .execute(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'postgis'"
            )
        )
        .scalar_one()
    )
    quoted = op.get_bind().execute(text("SELECT quote_ident(:s)"), {"s": schema}).scalar_one()
    op.execute(BODY.format(p=f"{quoted}."))


def downgrade() -> None:
    op.execute(BODY.format(p=""))
