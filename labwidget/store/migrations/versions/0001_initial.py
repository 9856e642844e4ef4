"""Items, their steps, and append-only label events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    op.create_table(
        "steps",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_steps_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "position", "alt", name=op.f("pk_steps")),
    )
    op.create_table(
        "label_events",
        sa.Column("seq", BigIntId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("alt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("client_time", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'rating' OR value IN (-1, 0, 1)", name=op.f("ck_label_events_rating_value")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_label_events_item_id_items")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_label_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_label_events_event_id")),
    )
    op.create_index(
        op.f("ix_label_events_item_id_step_alt_annotator_seq"),
        "label_events",
        ["item_id", "step", "alt", "annotator", "seq"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_label_events_item_id_step_alt_annotator_seq"), "label_events")
    op.drop_table("label_events")
    op.drop_table("steps")
    op.drop_table("items")
