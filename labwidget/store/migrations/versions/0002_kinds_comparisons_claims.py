"""Label kinds beyond step ratings, pairwise comparisons, and work claims.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

KIND_CHECK = (
    "(kind = 'rating' AND step IS NOT NULL AND (value IS NULL OR value IN (-1, 0, 1)))"
    " OR (kind = 'flag' AND step IS NOT NULL AND value IN (0, 1))"
    " OR (kind = 'choice' AND step IS NOT NULL AND value >= 0)"
    " OR (kind = 'replacement' AND step IS NOT NULL AND text IS NOT NULL)"
    " OR (kind = 'note' AND text IS NOT NULL)"
    " OR (kind = 'finish' AND step IS NULL"
    " AND text IN ('solution', 'found_error', 'bad_problem', 'give_up'))"
    " OR (kind = 'score' AND step IS NULL AND score IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("label_events") as batch:
        batch.drop_constraint(op.f("ck_label_events_rating_value"), type_="check")
        batch.alter_column("step", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("meta", sa.JSON(), nullable=True))
        batch.create_check_constraint("kind_value", KIND_CHECK)
        batch.create_index("ix_label_events_annotator_created_at", ["annotator", "created_at"])
    op.create_index("ix_items_dataset", "items", ["dataset"])
    op.create_table(
        "comparisons",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("answer_a", sa.Text(), nullable=False),
        sa.Column("answer_b", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparisons")),
    )
    op.create_table(
        "preference_events",
        sa.Column("seq", BigIntId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("comparison_id", sa.String(64), nullable=False),
        sa.Column("preference", sa.String(4), nullable=True),
        sa.Column("strength", sa.Float(), nullable=True),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("client_time", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "preference IS NULL OR preference IN ('a', 'b', 'tie')",
            name=op.f("ck_preference_events_preference_value"),
        ),
        sa.ForeignKeyConstraint(
            ["comparison_id"],
            ["comparisons.id"],
            name=op.f("fk_preference_events_comparison_id_comparisons"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_preference_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_preference_events_event_id")),
    )
    op.create_index(
        "ix_preference_events_comparison_id_annotator_seq",
        "preference_events",
        ["comparison_id", "annotator", "seq"],
    )
    op.create_table(
        "claims",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_claims_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "annotator", name=op.f("pk_claims")),
    )
    op.create_index("ix_claims_annotator", "claims", ["annotator"])


def downgrade() -> None:
    op.drop_table("claims")
    op.drop_table("preference_events")
    op.drop_table("comparisons")
    op.drop_index("ix_items_dataset", "items")
    with op.batch_alter_table("label_events") as batch:
        batch.drop_index("ix_label_events_annotator_created_at")
        batch.drop_constraint(op.f("ck_label_events_kind_value"), type_="check")
        batch.drop_column("meta")
        batch.drop_column("score")
        batch.drop_column("text")
        batch.alter_column("step", existing_type=sa.Integer(), nullable=False)
        batch.create_check_constraint("rating_value", "kind <> 'rating' OR value IN (-1, 0, 1)")
