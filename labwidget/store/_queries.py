"""Read-side queries: history, current labels (the newest event wins) and plain-dict rows."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from labwidget.store._events import iso
from labwidget.store.schema import comparisons, items, label_events, preference_events, steps

# The (position, alternative) of each step row of one item, for ``step_counts``. Built once: a
# bulk import asks it for every item it touches, and compiling a new SELECT each time cost more
# than running it.
ITEM_SHAPE = (
    sa.select(steps.c.position, steps.c.alt)
    .where(steps.c.item_id == sa.bindparam("item"))
    .order_by(steps.c.position, steps.c.alt)
)
# How many skipped rows a warning names before it just counts the rest.
NAMED_ROWS = 5

# What a "cleared" event holds for each kind that can be cleared (by undo).
CLEARED: dict[str, dict[str, Any]] = {"rating": {"value": None}, "flag": {"value": 0}}


def event_dict(row: Any) -> dict[str, Any]:
    """A label event row as the plain dict the store hands out."""
    # Through the row's mapping: attribute access on a Row costs about three times as much.
    m = row._mapping
    return {
        "event_id": m["event_id"],
        "item": m["item_id"],
        "step": m["step"],
        "alt": m["alt"],
        "kind": m["kind"],
        "value": m["value"],
        "text": m["text"],
        "score": m["score"],
        "annotator": m["annotator"],
        "source": m["source"],
        "confidence": m["confidence"],
        "duration_ms": m["duration_ms"],
        "created_at": iso(m["created_at"]),
        "meta": m["meta"],
    }


def is_cleared(event: dict[str, Any]) -> bool:
    """True for an event that takes a label away (a cleared rating or flag)."""
    cleared = CLEARED.get(event["kind"])
    return cleared is not None and all(event[k] == v for k, v in cleared.items())


def events(item: str | None, annotator: str | None, kind: str | None) -> sa.Select[Any]:
    """Label events, oldest first, filtered by whatever is not None."""
    query = sa.select(label_events)
    if kind is not None:
        query = query.where(label_events.c.kind == kind)
    if item is not None:
        query = query.where(label_events.c.item_id == item)
    if annotator is not None:
        query = query.where(label_events.c.annotator == annotator)
    return query.order_by(label_events.c.seq)


def current_labels(item: str | None, annotator: str | None, kind: str | None) -> sa.Select[Any]:
    """The newest event per (item, kind, step, alternative, annotator)."""
    newer = label_events.alias("newer")
    superseded = sa.exists().where(
        newer.c.item_id == label_events.c.item_id,
        newer.c.kind == label_events.c.kind,
        newer.c.step.is_not_distinct_from(label_events.c.step),
        newer.c.alt == label_events.c.alt,
        newer.c.annotator == label_events.c.annotator,
        newer.c.seq > label_events.c.seq,
    )
    return events(item, annotator, kind).where(~superseded)


def current_preferences(annotator: str | None, dataset: str | None) -> sa.Select[Any]:
    """The newest preference per (comparison, annotator), joined with the comparison."""
    newer = preference_events.alias("newer")
    superseded = sa.exists().where(
        newer.c.comparison_id == preference_events.c.comparison_id,
        newer.c.annotator == preference_events.c.annotator,
        newer.c.seq > preference_events.c.seq,
    )
    query = (
        sa.select(preference_events, comparisons)
        .join(comparisons, comparisons.c.id == preference_events.c.comparison_id)
        .where(~superseded, preference_events.c.preference.is_not(None))
        .order_by(preference_events.c.seq)
    )
    if annotator is not None:
        query = query.where(preference_events.c.annotator == annotator)
    if dataset is not None:
        query = query.where(comparisons.c.dataset == dataset)
    return query


def preference_dict(row: Any) -> dict[str, Any]:
    """A current-preference row as the plain dict the store hands out."""
    return {
        "event_id": row["event_id"],
        "comparison": row["comparison_id"],
        "prompt": row["prompt"],
        "answer_a": row["answer_a"],
        "answer_b": row["answer_b"],
        "preference": row["preference"],
        "strength": row["strength"],
        "annotator": row["annotator"],
        "source": row["source"],
        "confidence": row["confidence"],
        "duration_ms": row["duration_ms"],
        "created_at": iso(row["created_at"]),
    }


def counts(connection: sa.Connection) -> dict[str, int]:
    """How many rows of each kind the store holds, and how many annotators labeled."""

    def count(query: Any) -> int:
        return int(connection.execute(query).scalar_one())

    return {
        **{
            table.name: count(sa.select(sa.func.count()).select_from(table))
            for table in (items, steps, label_events, comparisons, preference_events)
        },
        "annotators": count(sa.select(sa.func.count(sa.distinct(label_events.c.annotator)))),
    }


def step_counts(rows: Iterable[tuple[int, int]]) -> list[int]:
    """The number of alternatives at each step, from ``(position, alt)`` rows in that order.

    Only rows that continue the count are used (see ``StepLayout``), so a stray row never
    makes a step or alternative appear that readers do not show.

    >>> step_counts([(0, 0), (1, 0), (1, 1), (1, 3), (2, 0), (9, 0)])
    [1, 2, 1]
    """
    layout = StepLayout("")
    for position, alt in rows:
        layout.add(position, alt, "")
    return [len(texts) for texts in layout.alternatives]


class StepLayout:
    """One item's steps, built from its rows in (position, alternative) order.

    Positions count 0, 1, 2, … and the alternatives at each position 0, 1, 2, …: that is what
    every reader indexes by. A row that does not continue the count (a gap in positions, an
    alternative without alternative 0 before it, a repeated index) is set aside in ``skipped``
    with every later row of its position, or of the item after a gap in positions, because
    their indexes would no longer name the step the labels were given to.
    """

    def __init__(self, item: str) -> None:
        self.item = item
        self.alternatives: list[list[str]] = []
        self.skipped: list[tuple[str, int, int]] = []

    def add(self, position: int, alt: int, text: str) -> None:
        """Take the next row; rows must come in (position, alt) order."""
        texts = self.alternatives
        if position == len(texts) and alt == 0:
            texts.append([text])
        elif texts and position == len(texts) - 1 and alt == len(texts[-1]):
            texts[-1].append(text)
        else:
            self.skipped.append((self.item, position, alt))


def warn_skipped(rows: Sequence[tuple[str, int, int]]) -> None:
    """One warning naming the step rows a read left out (the first few, then a count)."""
    if not rows:
        return
    named = "; ".join(
        f"item {item!r} position {p} alternative {a}" for item, p, a in rows[:NAMED_ROWS]
    )
    more = f" and {len(rows) - NAMED_ROWS} more" if len(rows) > NAMED_ROWS else ""
    warnings.warn(
        f"skipped {len(rows)} step row(s) that break the store's numbering ({named}{more}): "
        "positions must count 0, 1, 2, … and the alternatives at each position 0, 1, …; each "
        "item shows the steps before the first such row. They were written around the store "
        "(it never writes them): ask whoever manages the store to fix or delete them.",
        UserWarning,
        stacklevel=2,
    )


def item_dicts(
    connection: sa.Connection, where: sa.ColumnElement[bool] | None
) -> list[dict[str, Any]]:
    """Items (those matching ``where``) with their steps, oldest first, as plain dicts.

    Step rows that break the numbering are left out with a warning naming them (see
    ``StepLayout``): one bad row must not stop everyone from reading the store.
    """
    query = sa.select(items).order_by(items.c.created_at, items.c.id)
    step_query = (
        sa.select(steps.c.item_id, steps.c.position, steps.c.alt, steps.c.text)
        .join(items, items.c.id == steps.c.item_id)
        .order_by(steps.c.item_id, steps.c.position, steps.c.alt)
    )
    if where is not None:
        query, step_query = query.where(where), step_query.where(where)
    rows = connection.execute(query).all()
    layouts: dict[str, StepLayout] = {}
    # Unpacked as tuples: attribute access on each of 1,000 step rows was most of item()'s time.
    for item_id, position, alt, text in connection.execute(step_query):
        layout = layouts.get(item_id)
        if layout is None:
            layout = layouts[item_id] = StepLayout(item_id)
        layout.add(position, alt, text)
    warn_skipped([row for layout in layouts.values() for row in layout.skipped])
    result = []
    for row in rows:
        layout = layouts.get(row.id)
        alternatives = [] if layout is None else layout.alternatives
        result.append(
            {
                "id": row.id,
                "dataset": row.dataset,
                "prompt": row.prompt,
                "steps": [texts[0] for texts in alternatives],
                "alternatives": alternatives,
                "meta": row.meta,
                "source": row.source,
                "created_at": iso(row.created_at),
            }
        )
    return result
