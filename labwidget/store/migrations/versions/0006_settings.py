"""Store-wide settings (the weekly cap on labeling hours, the week's time zone and first day).

On a PostgreSQL store already set up for a team (``labwidget db init``), the annotators may read
the settings right away (``labwidget db upgrade`` does not rerun the security setup) but never
change them: that is for the store's owner.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            DO $$ BEGIN
              IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'labwidget_annotator') THEN
                GRANT SELECT ON settings TO labwidget_annotator;
              END IF;
            END $$
            """
        )


def downgrade() -> None:
    op.drop_table("settings")
