"""chain once per transaction: the logs' hash chains linked in one pass at commit

Revision ID: 0016
Revises: 0015

0015 linked each log row by a deferred row trigger. PostgreSQL keeps a transaction's deferred
events in one list and walks it around every statement a trigger runs, so a transaction of N
log rows cost O(N²): 2,000 rows 2.1 s, 8,000 rows 19.9 s, and a seed's 121,090 flag changes did
not finish. Now each INSERT statement notes its rows (a statement trigger with a transition
table) and one deferred trigger a transaction links them all (migrations/sql/
history_chain_once.sql). The chain's content, order and `fugong verify-history` are unchanged.
"""

from alembic import op

from migrations import sql_file

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHAINED = ("flag_change", "audit_log")


def upgrade() -> None:
    for table in CHAINED:
        op.execute(f"DROP TRIGGER {table}_chain ON {table}")
    op.execute(sql_file("history_chain_once.sql"))
    for table in CHAINED:
        op.execute(
            f"CREATE TRIGGER {table}_chain AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION fugong_chain_note()"
        )


def downgrade() -> None:
    for table in CHAINED:
        op.execute(f"DROP TRIGGER {table}_chain ON {table}")
    op.execute("DROP TABLE history_due, history_pending")
    op.execute("DROP FUNCTION fugong_chain_note")
    op.execute(sql_file("history_chain_row.sql"))
    for table in CHAINED:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_chain AFTER INSERT ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fugong_chain()"
        )
