"""Per-token scores kept with their item: tokens and float32 scores as binary, not JSON lists.

On a PostgreSQL store set up for a team, `labwidget db upgrade` re-applies the annotators'
rights after migrating (labwidget.store._postgres.secure), which covers this table.

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


def downgrade() -> None:
    op.drop_table("token_scores")
