"""The store's tables as SQLAlchemy Core: the single source of truth for queries.

Migrations under ``migrations/`` create these tables; they are frozen copies, so a change
here always comes with a new Alembic revision.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only makes an INTEGER PRIMARY KEY an alias of its rowid (and so auto-incrementing).
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _item_key() -> sa.Column[str]:
    """An ``item_id`` column keyed on an item, and gone with it: rows that belong to an item."""
    return sa.Column(
        "item_id", sa.String(64), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )


def _content_columns(*what: sa.Column[object]) -> list[sa.Column[object]]:
    """A content table's columns: hash id, dataset, prompt, ``what`` it holds, its provenance."""
    return [
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        *what,
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _event_columns(subject: str, *what: sa.Column[object]) -> list[sa.Column[object]]:
    """An event table's columns: its order, id and ``subject``, ``what`` it says, its provenance.

    Label and preference events carry the same provenance (``labwidget.store.Provenance``).
    """
    return [
        sa.Column("seq", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column(f"{subject}_id", sa.String(64), sa.ForeignKey(f"{subject}s.id"), nullable=False),
        *what,
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("client_time", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


items = sa.Table(
    "items",
    metadata,
    *_content_columns(),
    sa.Index(None, "dataset"),
)

steps = sa.Table(
    "steps",
    metadata,
    _item_key(),
    sa.Column("position", sa.Integer(), primary_key=True),
    sa.Column("alt", sa.Integer(), primary_key=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("chosen", sa.Boolean(), nullable=False),
)

# Every label is an event; the kinds and what each carries:
#   rating       step, alt, value -1 / 0 / +1 (NULL: cleared)
#   flag         step, alt, value 1 / 0 ("can't tell", PRM800K's flagged)
#   choice       step, value = the alternative that continues the solution
#   replacement  step, text = a step written by the annotator
#   note         text (step optional)
#   finish       text = solution | found_error | bad_problem | give_up; duration_ms = time spent
#   score        score = a scalar rating of the whole item
#   prediction   step, alt, score = a model's probability that the step is correct, value = +1 / -1
#                (the probability at or above the threshold, or below), confidence = the
#                probability of that value: a suggestion, never a label datasets train on
#   adjudication step, alt, value -1 / 0 / +1: the label a person settled a disagreement with
KINDS = (
    "rating", "flag", "choice", "replacement", "note", "finish", "score", "prediction",
    "adjudication",
)  # fmt: skip
FINISH_REASONS = ("solution", "found_error", "bad_problem", "give_up")
PREFERENCES = ("a", "b", "tie")

label_events = sa.Table(
    "label_events",
    metadata,
    *_event_columns(
        "item",
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("alt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
    ),
    sa.Column("text", sa.Text(), nullable=True),
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("meta", sa.JSON(), nullable=True),
    sa.Index(None, "item_id", "step", "alt", "annotator", "seq"),
    sa.Index(None, "annotator", "created_at"),
    # Which items someone finished (the summary's queue): only finish events are in it.
    sa.Index(
        "ix_label_events_finished",
        "item_id",
        sqlite_where=sa.text("kind = 'finish'"),
        postgresql_where=sa.text("kind = 'finish'"),
    ),
)

comparisons = sa.Table(
    "comparisons",
    metadata,
    *_content_columns(
        sa.Column("answer_a", sa.Text(), nullable=False),
        sa.Column("answer_b", sa.Text(), nullable=False),
    ),
)

preference_events = sa.Table(
    "preference_events",
    metadata,
    *_event_columns(
        "comparison",
        sa.Column("preference", sa.String(4), nullable=True),
        sa.Column("strength", sa.Float(), nullable=True),
    ),
    sa.Index(None, "comparison_id", "annotator", "seq"),
)

claims = sa.Table(
    "claims",
    metadata,
    _item_key(),
    sa.Column("annotator", sa.String(200), primary_key=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "annotator"),
)

# Per-token scores of a model output, kept with its item so a reopened item shows its heatmap.
#   kind    logprob | entropy | score (what the numbers are; meta says under which distribution)
#   tokens  the output's tokens, step after step: UTF-8 with a NUL between them
#   scores  one little-endian float32 per token
SCORE_KINDS = ("logprob", "entropy", "score")

token_scores = sa.Table(
    "token_scores",
    metadata,
    _item_key(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("tokens", sa.LargeBinary(), nullable=False),
    sa.Column("scores", sa.LargeBinary(), nullable=False),
    sa.Column("step_token_counts", sa.JSON(), nullable=False),
    sa.Column("meta", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('logprob', 'entropy', 'score')", name="kind"),
)

# What the work queue orders items by, one row per item, kept by the database itself: a trigger
# adds the row with its item and counts the people (annotators of "human" label events) who
# labeled it; ``labwidget.active`` writes the priorities when a model's scores land. Lower
# priorities come first; NULL: no model scored the item (it comes after the scored ones, and
# is not in that priority's index).
#   people            distinct people who labeled the item (machines are not counted)
#   uncertainty       the distance from 0.5 of the step probability nearest to it
#   convincing_wrong  minus the product of the step probabilities, on items whose final answer
#                     is wrong
#   disagreement      minus the largest gap between a step probability and an auto: label
#   scored_by         the model source (model:<name>) the priorities come from
item_queue = sa.Table(
    "item_queue",
    metadata,
    _item_key(),
    sa.Column("dataset", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("people", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("uncertainty", sa.Float(), nullable=True),
    sa.Column("convincing_wrong", sa.Float(), nullable=True),
    sa.Column("disagreement", sa.Float(), nullable=True),
    sa.Column("scored_by", sa.String(200), nullable=True),
    sa.Index(None, "people", "created_at", "item_id"),
    sa.Index(None, "people", "item_id"),
    *(
        sa.Index(
            None,
            "people",
            key,
            "item_id",
            sqlite_where=sa.text(f"{key} IS NOT NULL"),
            postgresql_where=sa.text(f"{key} IS NOT NULL"),
        )
        for key in ("uncertainty", "convincing_wrong", "disagreement")
    ),
)

# Who (among people) labeled which item: what ``item_queue.people`` counts, kept by a trigger.
item_people = sa.Table(
    "item_people",
    metadata,
    _item_key(),
    sa.Column("annotator", sa.String(200), primary_key=True),
)

# Counts the database keeps as labels are written (migration 0008), which the summary reads
# instead of every event: label events and capped human milliseconds (at most 10 minutes an
# event) per UTC hour ("YYYY-MM-DD HH"), dataset, annotator and source; and the current labels
# per dataset, source, kind and value (see ``_summary_sql.distribution``). A row may hold 0.
label_activity = sa.Table(
    "label_activity",
    metadata,
    sa.Column("hour", sa.String(13), primary_key=True),
    sa.Column("dataset", sa.String(200), primary_key=True),
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("annotator", sa.String(200), primary_key=True),
    sa.Column("labels", sa.BigInteger(), nullable=False),
    sa.Column("ms", sa.BigInteger(), nullable=False),
)
label_current = sa.Table(
    "label_current",
    metadata,
    sa.Column("dataset", sa.String(200), primary_key=True),
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.Text(), primary_key=True),
    sa.Column("labels", sa.BigInteger(), nullable=False),
)

# Store-wide settings a team shares, one JSON value per name (see labwidget.store._settings),
# such as the weekly cap on labeling hours.
settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.JSON(), nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
