"""Read-side queries: history, current labels (the newest event wins) and plain-dict rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from labwidget.store._events import iso
from labwidget.store.schema import comparisons, items, label_events, preference_events, steps

# The number of alternatives at each step position of one item. Built once: a bulk import asks
# it for every item it touches, and compiling a new SELECT each time cost more than running it.
ITEM_SHAPE = (
    sa.select(steps.c.position, sa.func.count())
    .where(steps.c.item_id == sa.bindparam("item"))
    .group_by(steps.c.position)
    .order_by(steps.c.position)
)

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


def item_dicts(
    connection: sa.Connection, where: sa.ColumnElement[bool] | None
) -> list[dict[str, Any]]:
    """Items (those matching ``where``) with their steps, oldest first, as plain dicts."""
    query = sa.select(items).order_by(items.c.created_at, items.c.id)
    step_query = (
        sa.select(steps.c.item_id, steps.c.position, steps.c.text)
        .join(items, items.c.id == steps.c.item_id)
        .order_by(steps.c.item_id, steps.c.position, steps.c.alt)
    )
    if where is not None:
        query, step_query = query.where(where), step_query.where(where)
    rows = connection.execute(query).all()
    positions: dict[str, list[list[str]]] = {}
    # Unpacked as tuples: attribute access on each of 1,000 step rows was most of item()'s time.
    for item_id, position, text in connection.execute(step_query):
        texts = positions.setdefault(item_id, [])
        if len(texts) <= position:
            texts.append([])
        texts[position].append(text)
    return [
        {
            "id": row.id,
            "dataset": row.dataset,
            "prompt": row.prompt,
            "steps": [texts[0] for texts in positions.get(row.id, [])],
            "alternatives": positions.get(row.id, []),
            "meta": row.meta,
            "source": row.source,
            "created_at": iso(row.created_at),
        }
        for row in rows
    ]
