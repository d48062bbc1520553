"""name search and idempotency payloads: n-gram indexes on names, a visit's payload digest

Revision ID: 0009
Revises: 0007
"""

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

# The layers whose lists take `where: {name: …}`, a substring anywhere in the name.
NAMED = ("area", "enterprise", "construction_site", "quarantine_site", "patrol_zone")


def upgrade() -> None:
    # The name's characters and pairs of characters, lower-cased: a GIN index on them finds the
    # names that hold every character pair of the text searched for (then a substring test
    # confirms). pg_trgm would not do: it keeps only letters and digits as the cluster's
    # LC_CTYPE sees them, and under the C locale fugong's own cluster runs in, a Chinese name
    # has no trigrams at all (show_trgm('通宇电缆') is {}); pairs also serve two-character
    # searches, which trigrams cannot, and most Chinese names are a few characters long.
    op.execute(
        """
        CREATE FUNCTION fugong_name_grams(name text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT substr(lower(name), i, n)), '{}')
            FROM generate_series(1, 2) AS n, generate_series(1, char_length(name) - n + 1) AS i
        $$
        """
    )
    for table in NAMED:
        op.execute(
            f"CREATE INDEX idx_{table}_name_grams ON {table} USING gin (fugong_name_grams(name))"
        )
    # The sha256 of what a visit was recorded from, so that the same idempotency key sent
    # with another payload is refused rather than answered with the first visit. Rows from
    # before have none: a replay of them cannot be compared, and is answered as before.
    op.execute("ALTER TABLE inspection ADD COLUMN payload_sha256 text")


def downgrade() -> None:
    op.execute("ALTER TABLE inspection DROP COLUMN payload_sha256")
    for table in NAMED:
        op.execute(f"DROP INDEX idx_{table}_name_grams")
    op.execute("DROP FUNCTION fugong_name_grams(text)")
