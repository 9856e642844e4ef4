"""Store-wide settings (the weekly cap on labeling hours, the week's time zone and first day),
and an index of finish events, which tells the summary's queue which items are done.

The index holds only finish events (about one in ten label events), so it adds little to a
write; it turns "how many items are done" from a scan of every event into a scan of it.

On a PostgreSQL store set up for a team, ``labwidget db upgrade`` re-applies the annotators'
rights after migrating: they may read the settings but never change them (that is for the
store's owner).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_settings")),
    )
    op.create_index(
        "ix_label_events_finished",
        "label_events",
        ["item_id"],
        sqlite_where=sa.text("kind = 'finish'"),
        postgresql_where=sa.text("kind = 'finish'"),
    )


def downgrade() -> None:
    op.drop_index("ix_label_events_finished", "label_events")
    op.drop_table("settings")
