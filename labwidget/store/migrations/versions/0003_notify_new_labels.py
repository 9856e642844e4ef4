"""On PostgreSQL, NOTIFY labwidget_labels after every insert into label_events.

A training loop that follows the store LISTENs on that channel instead of polling; the
trigger fires once per statement, so a bulk import costs one notification, not one per row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHANNEL = "labwidget_labels"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION labwidget_notify_labels() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('{CHANNEL}', '');
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER notify_new_labels AFTER INSERT ON label_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION labwidget_notify_labels()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS notify_new_labels ON label_events")
    op.execute("DROP FUNCTION IF EXISTS labwidget_notify_labels()")
