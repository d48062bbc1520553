"""account changes notify: each statement that updates, deletes or truncates accounts sends
NOTIFY account_changed from its own transaction

Revision ID: 0020
Revises: 0019

Every process keeps the callers its accounts act as (geo/callers.py) and forgets them on this
notification, so a change made by any writer (the API, `fugong user`, plain SQL) stops the old
tokens' rights in every process once it commits. One per statement: the processes forget every
account, not one. Enabled ALWAYS, so that a change applied with session_replication_role =
replica (as logical replication applies one) notifies too.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION fugong_notify_account_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('account_changed', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER account_changed AFTER UPDATE OR DELETE OR TRUNCATE ON account
            FOR EACH STATEMENT EXECUTE FUNCTION fugong_notify_account_change();
        ALTER TABLE account ENABLE ALWAYS TRIGGER account_changed;
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER account_changed ON account")
    op.execute("DROP FUNCTION fugong_notify_account_change()")
