"""Reads for the training feed: each labeling's newest labels, events after a ``seq``, a handle.

The datasets and exports of ``labwidget.data`` and ``labwidget.formats`` read a whole store:
a million label events. ``labeled_items`` reads them an item chunk at a time, in item order,
as plain tuples from the driver's cursor, and keeps the newest event of each (item, annotator,
kind, step, alternative) (``_newest``): no event is replayed through ``Labeling.apply``, no
dict made and no timestamp parsed but the few a labeling's reader needs. ``follow``
reads ``events_after`` a ``seq`` and waits on ``watch()``; a DataLoader worker reopens the
store through ``handle()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labwidget.store import _newest, _queries
from labwidget.store._core import StoreCore
from labwidget.store._watch import Watch
from labwidget.store.schema import items, label_events

# Kinds that are no one's labeling: model suggestions, and verdicts applied to the others'.
NOT_LABELS = ("note", "prediction", "adjudication")
CHUNK = 2_000  # items per query: well under SQLite's bound parameters
EVENTS_CHUNK = 1_000  # events per ``events_after`` query


def source_filter(source: str) -> sa.ColumnElement[bool]:
    """Events from ``source``: a family (``"model"``: ``model`` and every ``model:…``) or one.

    A name with a colon (``"model:judge-7b"``) is exact; one without names the family.
    """
    column = label_events.c.source
    if ":" in source:
        return column == source
    return sa.or_(column == source, column.startswith(f"{source}:", autoescape=True))


def _label_filter(
    annotator: str | None, source: str | None, since: datetime | None, until: datetime | None
) -> list[sa.ColumnElement[bool]]:
    e = label_events.c
    where: list[sa.ColumnElement[bool]] = [e.kind.not_in(NOT_LABELS)]
    if annotator is not None:
        where.append(e.annotator == annotator)
    if source is not None:
        where.append(source_filter(source))
    if since is not None:
        where.append(e.created_at >= since)
    if until is not None:
        where.append(e.created_at < until)
    return where


class StoreHandle:
    """A store that reopens itself in each process: what a DataLoader worker holds.

    ``get()`` gives the store, opened anew after a fork or in a spawned worker; pickling
    carries only its URL and annotator.
    """

    def __init__(self, store: Feed) -> None:
        self._target = store.url.render_as_string(hide_password=False)
        self._annotator = store.annotator
        self._kind = type(store)
        self._store: Feed | None = store
        self._pid = os.getpid()

    def get(self) -> Any:
        """The store, opened anew in a process other than the one that made the handle."""
        if self._store is None or self._pid != os.getpid():
            if self._store is not None:
                # A forked child must leave the parent's connections alone, not close them.
                self._store._engine.dispose(close=False)
            self._store = self._kind(self._target, annotator=self._annotator)
            self._pid = os.getpid()
        return self._store

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_store": None}


class Feed(StoreCore):
    """Whole-store reads for datasets and exports, and the reads ``follow`` polls."""

    def handle(self) -> StoreHandle:
        """A handle on this store that survives fork and pickle (DataLoader workers)."""
        return StoreHandle(self)

    def item_order(self, *, dataset: str | None = None) -> list[str]:
        """Every item id, oldest first (the order ``items`` gives), without its content."""
        query = sa.select(items.c.id).order_by(items.c.created_at, items.c.id)
        if dataset is not None:
            query = query.where(items.c.dataset == dataset)
        with self._read() as connection:
            return list(connection.execute(query).scalars())

    def labeled_items(
        self,
        item_ids: Sequence[str] | None = None,
        *,
        dataset: str | None = None,
        annotator: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each item with label events, oldest first, with each labeling's newest labels.

        Yields ``{"item": <as items() gives it>, "labelings": [...], "adjudications": {...}}``.
        A labeling (one annotator's events on the item, ``note``, ``prediction`` and
        ``adjudication`` aside) is ``{"annotator", "labels", "events", "last_at"}``: ``labels``
        the newest event of each (kind, step, alt) as a tuple ``(kind, step, alt, value, text,
        score, seq)`` in ``seq`` order, ``events`` the same events of kinds ``finish`` and
        ``replacement`` as whole dicts (as ``events()`` gives them), and ``last_at`` when its
        newest event was recorded. Labelings come in order of their first event.
        ``adjudications`` holds the newest adjudication of each (step, alt), by anyone.

        Args:
            item_ids: only these items, in this order (default: every item, oldest first).
            dataset: only items of this dataset.
            annotator: only this annotator's events.
            source: only events from this source: a family such as ``"model"`` (``model``
                and every ``model:…``) or an exact one such as ``"model:judge-7b"``.
            since: only events recorded at or after this time.
            until: only events recorded before this time.
        """
        where = _label_filter(annotator, source, since, until)
        order = self.item_order(dataset=dataset) if item_ids is None else list(item_ids)
        for start in range(0, len(order), CHUNK):
            chunk = order[start : start + CHUNK]
            with self._read() as connection:
                found = _newest.labelings(connection, chunk, where)
                if not found:
                    continue
                wanted = [item for item in chunk if item in found]
                texts = _newest.item_dicts(connection, wanted)
                verdicts = _newest.adjudications(connection, wanted)
            for item in wanted:
                if item in texts and dataset in (None, texts[item]["dataset"]):
                    yield {
                        "item": texts[item],
                        "labelings": found[item],
                        "adjudications": verdicts.get(item, {}),
                    }

    def labeling_history(
        self,
        item: str,
        annotator: str,
        *,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Every event of one labeling that ``labeled_items`` folds, oldest first, as dicts."""
        where = _label_filter(annotator, source, since, until)
        query = sa.select(label_events).where(label_events.c.item_id == item, *where)
        with self._read() as connection:
            rows = connection.execute(query.order_by(label_events.c.seq)).all()
        return [_queries.event_dict(row) for row in rows]

    def last_seq(self) -> int:
        """The ``seq`` of the newest label event (0 for none): where ``follow`` starts."""
        with self._read() as connection:
            found = connection.execute(sa.select(sa.func.max(label_events.c.seq))).scalar_one()
        return int(found or 0)

    def events_after(
        self,
        seq: int,
        *,
        upto: int | None = None,
        kind: str | None = None,
        limit: int = EVENTS_CHUNK,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` label events after ``seq``, oldest first: what ``follow`` polls.

        Each is the dict ``events()`` gives plus its ``seq``; ``upto`` bounds the ``seq`` too.
        """
        query = sa.select(label_events).where(label_events.c.seq > seq)
        if upto is not None:
            query = query.where(label_events.c.seq <= upto)
        if kind is not None:
            query = query.where(label_events.c.kind == kind)
        with self._read() as connection:
            rows = connection.execute(query.order_by(label_events.c.seq).limit(limit)).all()
        return [{**_queries.event_dict(row), "seq": row.seq} for row in rows]

    def watch(self) -> Watch:
        """What ``follow`` waits on between polls; ``close()`` it when done.

        On PostgreSQL a ``LISTEN``, and the highest ``seq`` below which no open transaction
        can still commit; on SQLite a plain sleep.
        """
        return Watch(self._engine)
