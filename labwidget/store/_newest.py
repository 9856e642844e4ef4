"""The SQL under ``Store.labeled_items``: a chunk of items' labelings, items and verdicts.

A million events pass through here, so rows come as the driver's own tuples and nothing is
converted that the reader does not use: a timestamp is parsed for a labeling's newest event
only, and whole events (dicts) are made only for finishes and replacements. The newest event
of each (kind, step, alternative) wins by ``seq`` in one pass over the chunk's events in
``seq`` order: on SQLite that costs less than a ``GROUP BY`` on ``max(seq)`` or a window, which
sort the chunk first (see benchmarks/README.md, "Training feed at scale").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labwidget.store import _queries
from labwidget.store._events import iso
from labwidget.store.schema import items, label_events, steps

# Kinds whose newest event a labeling keeps whole (``Labeling.finish``, ``.replacements``).
WHOLE = ("finish", "replacement")
PLAIN = (
    "item_id",
    "annotator",
    "kind",
    "step",
    "alt",
    "value",
    "text",
    "score",
    "seq",
    "created_at",
)
EXTRA = ("event_id", "source", "confidence", "duration_ms", "meta")


def _plain(connection: sa.Connection, query: Any) -> list[Any]:
    """The query's rows as the driver's tuples, past SQLAlchemy's row objects."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _when(connection: sa.Connection) -> Any:
    """A stored ``created_at`` as ISO 8601, as ``Store.events`` gives it."""
    dialect = connection.dialect
    parse = items.c.created_at.type.dialect_impl(dialect).result_processor(dialect, None)

    def when(value: Any) -> str:
        if isinstance(value, str):
            try:
                return iso(datetime.fromisoformat(value))
            except ValueError:
                pass
        return iso(value if parse is None else parse(value))  # type: ignore[arg-type]

    return when


def labelings(
    connection: sa.Connection, chunk: list[str], where: list[sa.ColumnElement[bool]]
) -> dict[str, list[dict[str, Any]]]:
    """The labelings of ``chunk``'s items (see ``Store.labeled_items``), by item."""
    e = label_events.c
    whole = e.kind.in_(WHOLE)
    query = (
        sa.select(*(e[name] for name in PLAIN), *(sa.case((whole, e[name])) for name in EXTRA))
        .where(e.item_id.in_(chunk), *where)
        .order_by(e.seq)
    )
    dialect = connection.dialect
    meta = e.meta.type.dialect_impl(dialect).result_processor(dialect, None)
    when = _when(connection)
    newest: dict[tuple[str, str], dict[tuple[str, int, int], Any]] = {}
    last: dict[tuple[str, str], Any] = {}
    for row in _plain(connection, query):
        key = (row[0], row[1])
        found = newest.get(key)
        if found is None:
            found = newest[key] = {}
        found[(row[2], row[3], row[4])] = row
        last[key] = row
    by_item: dict[str, list[dict[str, Any]]] = {}
    for (item, who), rows in newest.items():
        labels = sorted(rows.values(), key=lambda row: row[8])
        events = []
        for row in labels:
            if row[2] in WHOLE:
                _, _, kind, step, alt, value, text, score, _, created, *extra = row
                event_id, source, confidence, duration_ms, meta_value = extra
                events.append(
                    {
                        "event_id": event_id, "item": item, "step": step, "alt": alt,
                        "kind": kind, "value": value, "text": text, "score": score,
                        "annotator": who, "source": source, "confidence": confidence,
                        "duration_ms": duration_ms, "created_at": when(created),
                        "meta": meta_value if meta is None else meta(meta_value),
                    }
                )  # fmt: skip
        by_item.setdefault(item, []).append(
            {
                "annotator": who,
                "labels": [row[2:9] for row in labels],
                "events": events,
                "last_at": when(last[(item, who)][9]),
            }
        )
    return by_item


def item_dicts(connection: sa.Connection, chunk: list[str]) -> dict[str, dict[str, Any]]:
    """The items of ``chunk`` by id, each the dict ``Store.items`` gives."""
    i = items.c
    rows = _plain(
        connection,
        sa.select(i.id, i.dataset, i.prompt, i.meta, i.source, i.created_at).where(i.id.in_(chunk)),
    )
    step_rows = _plain(
        connection,
        sa.select(steps.c.item_id, steps.c.position, steps.c.alt, steps.c.text)
        .where(steps.c.item_id.in_(chunk))
        .order_by(steps.c.item_id, steps.c.position, steps.c.alt),
    )
    layouts: dict[str, _queries.StepLayout] = {}
    for item_id, position, alt, text in step_rows:
        layout = layouts.get(item_id)
        if layout is None:
            layout = layouts[item_id] = _queries.StepLayout(item_id)
        layout.add(position, alt, text)
    _queries.warn_skipped([row for layout in layouts.values() for row in layout.skipped])
    dialect = connection.dialect
    meta = i.meta.type.dialect_impl(dialect).result_processor(dialect, None)
    when = _when(connection)
    found = {}
    for item_id, dataset, prompt, meta_value, source, created in rows:
        layout = layouts.get(item_id)
        alternatives = [] if layout is None else layout.alternatives
        found[item_id] = {
            "id": item_id,
            "dataset": dataset,
            "prompt": prompt,
            "steps": [texts[0] for texts in alternatives],
            "alternatives": alternatives,
            "meta": meta_value if meta is None else meta(meta_value),
            "source": source,
            "created_at": when(created),
        }
    return found


def adjudications(
    connection: sa.Connection, chunk: list[str]
) -> dict[str, dict[tuple[int, int], int]]:
    """The newest adjudication of each adjudicated (step, alt) of ``chunk``'s items."""
    e = label_events.c
    query = (
        sa.select(e.item_id, e.step, e.alt, e.value)
        .where(e.kind == "adjudication", e.item_id.in_(chunk))
        .order_by(e.seq)
    )
    verdicts: dict[str, dict[tuple[int, int], int]] = {}
    for item, step, alt, value in _plain(connection, query):
        verdicts.setdefault(item, {})[(step, alt)] = value
    return verdicts
