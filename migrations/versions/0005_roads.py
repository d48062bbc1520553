"""roads: an OSM road network for pgRouting

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    # A vertex is an OSM node where ways meet or end: what targets snap to and routes join at.
    op.execute(
        """
        CREATE TABLE road_vertex (
            id bigint PRIMARY KEY,
            geom geometry(Point, 4326) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX idx_road_vertex_geom ON road_vertex USING gist (geom)")
    # An edge between two vertices, in pgRouting's shape: a negative reverse cost is a one-way
    # street that may not be ridden from target to source.
    op.execute(
        """
        CREATE TABLE road (
            id bigserial PRIMARY KEY,
            osm_way_id bigint NOT NULL,
            source bigint NOT NULL REFERENCES road_vertex (id),
            target bigint NOT NULL REFERENCES road_vertex (id),
            length_m float8 NOT NULL,
            cost_s float8 NOT NULL,
            reverse_cost_s float8 NOT NULL,
            highway text NOT NULL,
            geom geometry(LineString, 4326) NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX idx_road_geom ON road USING gist (geom)")
    op.execute("CREATE INDEX ix_road_source ON road (source)")
    op.execute("CREATE INDEX ix_road_target ON road (target)")


def downgrade() -> None:
    op.execute("DROP TABLE road")
    op.execute("DROP TABLE road_vertex")
    # pgrouting stays: it may have been there before 0005 (the benchmarks create it too).
