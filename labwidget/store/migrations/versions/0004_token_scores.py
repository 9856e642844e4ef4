"""Per-token scores kept with their item: tokens and float32 scores as binary, not JSON lists.

On a PostgreSQL store already set up for a team (`labwidget db init`), the annotators get the
same rights on the new table as on items (read, insert; never update or delete) right away:
`labwidget db upgrade` does not rerun the security setup, and without them every annotator's
labeler would fail to read the new table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_scores",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tokens", sa.LargeBinary(), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.Column("step_token_counts", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('logprob', 'entropy', 'score')", name=op.f("ck_token_scores_kind")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_token_scores_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_token_scores")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            DO $$ BEGIN
              IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'labwidget_annotator') THEN
                GRANT SELECT, INSERT ON token_scores TO labwidget_annotator;
              END IF;
            END $$
            """
        )


def downgrade() -> None:
    op.drop_table("token_scores")
