"""query plans: indexes and statements checked with EXPLAIN at 1M enterprises

Revision ID: 0006
Revises: 0005

- flag_tally and flag_tally_daily: flag counts kept by triggers, so that flagCounts, today or
  as of any past day, reads a few thousand rows instead of every target and its history
  (migrations/sql/flag_tally.sql; filled here from the tables);
- fugong_tile_key and a covering index on it for the point layers: a low-zoom tile's points
  read from the index alone;
- tile_cache: tiles kept for every process, dropped by triggers when a write touches them
  (migrations/sql/tiles.sql).

EXPLAIN (ANALYZE, BUFFERS) before and after: BENCHMARKS.md, "Query plans at 1M enterprises".
"""

from alembic import op

from migrations import sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TALLIED = ("enterprise", "construction_site")
CACHED = ("area", "patrol_zone", "enterprise", "rental_property", "construction_site")
CACHED += ("quarantine_site", "account_zone")
# Covering: the id, and what scopes (area_id, geom) and the flag filter (flag_color) read.
TILE_INDEXES = {
    "enterprise": "id, flag_color, area_id, geom",
    "rental_property": "id, area_id, geom",
}


def upgrade() -> None:
    op.execute(sql_file("flag_tally.sql"))
    op.execute(sql_file("tiles.sql"))
    for table, covered in TILE_INDEXES.items():
        op.execute(
            f"CREATE INDEX ix_{table}_tile ON {table} (fugong_tile_key(geom)) INCLUDE ({covered})"
        )


def downgrade() -> None:
    for table in TILE_INDEXES:
        op.execute(f"DROP INDEX ix_{table}_tile")
    for table in TALLIED:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_tally_{event} ON {table}")
    op.execute("DROP TRIGGER flag_change_tally ON flag_change")
    op.execute("DROP TRIGGER flag_change_tally_truncate ON flag_change")
    for table in CACHED:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_tile_cache_{event} ON {table}")
    op.execute("DROP TABLE tile_cache, tile_cache_guard, flag_tally, flag_tally_daily")
    for function in (
        "fugong_tally_terms(text, text, text, text)",
        "fugong_tally_append(text)",
        "fugong_tally_compact(boolean, date)",
        "fugong_tally_targets()",
        "fugong_tally_history()",
        "fugong_tally_truncated()",
        "fugong_tally_rebuild()",
        "fugong_tile_key(geometry)",
        "fugong_tile_cache_drop()",
        "fugong_tile_cache_drop_inspector()",
        "fugong_tile_cache_clear()",
    ):
        op.execute(f"DROP FUNCTION {function}")
