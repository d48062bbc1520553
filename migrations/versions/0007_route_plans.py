"""route plans: a zone's day plan, stored and reused while its inputs are unchanged

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per zone, day, team size and shift: the solved plan as JSON (no personal data:
    # targets by kind, id, name, place, priority and reason), and the sha256 of what it was
    # solved from (geo/routing/inputs.py). `solves` counts the times the row was solved.
    op.execute(
        """
        CREATE TABLE route_plan (
            zone_id integer NOT NULL REFERENCES patrol_zone (id) ON DELETE CASCADE,
            day date NOT NULL,
            inspectors integer NOT NULL CHECK (inspectors > 0),
            shift_minutes integer NOT NULL CHECK (shift_minutes > 0),
            fingerprint text NOT NULL,
            plan jsonb NOT NULL,
            planned_at timestamptz NOT NULL,
            solve_ms integer NOT NULL,
            solves integer NOT NULL DEFAULT 1,
            PRIMARY KEY (zone_id, day, inspectors, shift_minutes)
        )
        """
    )
    # The road network's version, bumped by every statement that changes a road or a vertex
    # (`fugong import-roads` truncates and reloads): part of a plan's fingerprint. In the
    # importing transaction, so a plan never pairs a new version with the old roads.
    op.execute("CREATE TABLE road_network (version bigint NOT NULL)")
    op.execute("INSERT INTO road_network VALUES (1)")
    op.execute(
        """
        CREATE FUNCTION fugong_road_network_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE road_network SET version = version + 1;
            RETURN NULL;
        END
        $$
        """
    )
    for table in ("road", "road_vertex"):
        op.execute(
            f"""
            CREATE TRIGGER {table}_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fugong_road_network_changed()
            """
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER road_changed ON road")
    op.execute("DROP TRIGGER road_vertex_changed ON road_vertex")
    op.execute("DROP FUNCTION fugong_road_network_changed()")
    op.execute("DROP TABLE road_network")
    op.execute("DROP TABLE route_plan")
