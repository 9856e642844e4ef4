"""Reads and writes of the active loop: current step values in one pass, and queue priorities.

``current`` reads the newest event of one kind per (item, step, alternative, annotator) in one
SQL pass, as plain tuples (agreement over a million labels reads them all); SQLite takes the
newest through its bare-column ``max()``, PostgreSQL through ``DISTINCT ON``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from labwidget.store._events import iso
from labwidget.store.schema import item_queue, items, label_events, steps

PRIORITIES = ("uncertainty", "convincing_wrong", "disagreement")
# What ``history`` gives for a cleared value (a rating undone): no value is this large.
CLEARED = 9
# Rows per UPDATE round and ids per IN (...) list: well under SQLite's bound parameters.
CHUNK = 500


def current(
    connection: sa.Connection,
    kind: str,
    *,
    items_in: Sequence[str] | None = None,
    dataset: str | None = None,
    source: str | None = None,
    blind: bool = False,
) -> list[tuple[Any, ...]]:
    """The newest ``kind`` event per (item, step, alt, annotator), cleared ones left out.

    Each row is ``(item, step, alt, annotator, source, value, score, confidence)``, then
    whether the event's meta says ``blind`` (when asked), then the event's ``seq`` (later
    events have larger ones). ``source`` is an exact source or a
    prefix ending in a colon (``"auto:"``); ``items_in`` and ``dataset`` narrow the items.
    """
    e = label_events.c
    columns: list[Any] = [e.item_id, e.step, e.alt, e.annotator, e.source, e.value, e.score]
    columns.append(e.confidence)
    if blind:
        columns.append(e.meta["blind"].as_boolean())
    where: list[Any] = [e.kind == kind]
    if source is not None:
        where.append(e.source.startswith(source) if source.endswith(":") else e.source == source)
    if items_in is not None:
        where.append(e.item_id.in_(items_in))
    if dataset is not None:
        where.append(e.item_id.in_(sa.select(items.c.id).where(items.c.dataset == dataset)))
    key = (e.item_id, e.step, e.alt, e.annotator)
    if connection.dialect.name == "postgresql":
        query = (
            sa.select(*columns, e.seq)
            .where(*where)
            .ext(postgresql.distinct_on(*key))
            .order_by(*(c.desc() for c in key), e.seq.desc())
        )
        rows = connection.execute(query)
    else:
        # SQLite gives the other columns of the row holding the max(seq): the newest event.
        query = sa.select(*columns, sa.func.max(e.seq)).where(*where).group_by(*key)
        rows = connection.execute(query)
    return [tuple(row) for row in rows if row[5] is not None]


def history(
    connection: sa.Connection, kind: str, *, dataset: str | None = None
) -> list[tuple[Any, ...]]:
    """Every ``kind`` event as ``(item, step, alt, annotator, source, value, seq)``, unordered.

    One sequential pass over the table, no sort (unlike ``current``, which looks up the newest
    of each key): the reader takes the newest per key by ``seq`` itself, as agreement does with
    one numpy sort. A cleared value comes as ``CLEARED`` (9).
    """
    e = label_events.c
    value = sa.func.coalesce(e.value, CLEARED)
    query = sa.select(e.item_id, e.step, e.alt, e.annotator, e.source, value, e.seq).where(
        e.kind == kind
    )
    if dataset is not None:
        query = query.where(e.item_id.in_(sa.select(items.c.id).where(items.c.dataset == dataset)))
    return _plain_rows(connection, query)


def _plain_rows(connection: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of a query of plain strings and numbers, as the driver's own tuples.

    Past SQLAlchemy's row objects, which cost as much again as the driver's fetch for a million
    rows; nothing here needs a type converted.
    """
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def current_in_chunks(
    connection: sa.Connection, kind: str, item_ids: Sequence[str], **only: Any
) -> list[tuple[Any, ...]]:
    """``current`` for a long list of items, a chunk of ids per query."""
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(item_ids), CHUNK):
        found += current(connection, kind, items_in=item_ids[start : start + CHUNK], **only)
    return found


def known_event_ids(connection: sa.Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of ``event_ids`` the store already holds (what a re-run may skip)."""
    known: set[str] = set()
    for start in range(0, len(event_ids), CHUNK):
        chunk = event_ids[start : start + CHUNK]
        query = sa.select(label_events.c.event_id).where(label_events.c.event_id.in_(chunk))
        known.update(connection.execute(query).scalars())
    return known


def set_priorities(connection: sa.Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Write items' priorities (``item`` and the ``PRIORITIES`` keys, ``scored_by``).

    Rows go in item order: the triggers that count people lock queue rows in that order too,
    so a label write and a priority update never wait on each other in a cycle.
    """
    names = (*PRIORITIES, "scored_by")
    # Bound under other names: SQLAlchemy keeps a column's own name for its SET clause.
    ordered = [
        {"at": row["item"], **{f"new_{name}": row.get(name) for name in names}}
        for row in sorted(rows, key=lambda row: row["item"])
    ]
    statement = (
        sa.update(item_queue)
        .where(item_queue.c.item_id == sa.bindparam("at"))
        .values({name: sa.bindparam(f"new_{name}") for name in names})
    )
    updated = 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        updated += connection.execute(statement, chunk).rowcount
    return updated


def queue_rows(connection: sa.Connection, item_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The queue rows of some items: people who labeled each, priorities, who scored it."""
    query = sa.select(item_queue).where(item_queue.c.item_id.in_(item_ids))
    rows = connection.execute(query.order_by(item_queue.c.item_id)).mappings()
    return [
        {
            "item": row["item_id"],
            "dataset": row["dataset"],
            "created_at": iso(row["created_at"]),
            "people": row["people"],
            **{name: row[name] for name in (*PRIORITIES, "scored_by")},
        }
        for row in rows
    ]


def item_shapes(connection: sa.Connection, dataset: str | None) -> list[tuple[str, str, int]]:
    """(item, dataset, number of steps) of every item (of ``dataset``).

    Two plain scans joined here: a correlated count per item cost PostgreSQL four times as
    much on 100k items.
    """
    where = [] if dataset is None else [item_queue.c.dataset == dataset]
    names = _plain_rows(
        connection, sa.select(item_queue.c.item_id, item_queue.c.dataset).where(*where)
    )
    counts = dict(
        _plain_rows(
            connection,
            sa.select(steps.c.item_id, sa.func.count())
            .where(steps.c.alt == 0)
            .group_by(steps.c.item_id),
        )
    )
    return [(item, name, counts.get(item, 0)) for item, name in names]
