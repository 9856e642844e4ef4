"""Reads of labels: current labels and history as plain dicts, and whole-store passes as tuples.

Everything outside the store reads its tables through these methods (and ``Items``' reads of
items and comparisons); none of it writes SQL of its own. What the training feed needs (the
datasets of ``labwidget.data``, ``labwidget.follow``) is read here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from labwidget.store import _queries, _queue
from labwidget.store._core import StoreCore
from labwidget.store.schema import label_events


class Reads(StoreCore):
    """The current labels, the history of events, and counts, read without a transaction."""

    def labels(
        self,
        *,
        item: str | None = None,
        annotator: str | None = None,
        kind: str | None = "rating",
    ) -> list[dict[str, Any]]:
        """The current labels, one dict per (item, step, alternative, annotator, kind).

        The newest event wins; cleared ratings and flags are left out. Older events stay in
        the store as history (see ``events``).
        """
        with self._read() as connection:
            rows = connection.execute(_queries.current_labels(item, annotator, kind)).all()
        return [e for e in map(_queries.event_dict, rows) if not _queries.is_cleared(e)]

    def events(
        self,
        *,
        item: str | None = None,
        annotator: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every label event ever committed, oldest first: the full history."""
        with self._read() as connection:
            rows = connection.execute(_queries.events(item, annotator, kind)).all()
        return [_queries.event_dict(row) for row in rows]

    def iter_events(
        self, *, kind: str | None = None, chunk: int = 5_000
    ) -> Iterator[dict[str, Any]]:
        """Stream every label event, oldest first, holding ``chunk`` rows in memory at a time."""
        last = 0
        while True:
            query = _queries.events(None, None, kind).where(label_events.c.seq > last)
            with self._read() as connection:
                rows = connection.execute(query.limit(chunk)).all()
            if not rows:
                return
            last = rows[-1].seq
            yield from map(_queries.event_dict, rows)

    def step_ratings(self, item: str, *, annotator: str | None = None) -> list[int | None]:
        """The current rating of each step of ``item`` (alternative 0) by one annotator."""
        with self._read() as connection:
            count = len(self._item_shape(connection, item))
        ratings: list[int | None] = [None] * count
        for row in self.labels(item=item, annotator=annotator or self.annotator):
            if row["alt"] == 0 and 0 <= row["step"] < count:
                ratings[row["step"]] = row["value"]
        return ratings

    def current_steps(
        self,
        kind: str = "rating",
        *,
        items: Sequence[str] | None = None,
        dataset: str | None = None,
        source: str | None = None,
        blind: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The newest ``kind`` event per (item, step, alt, annotator), in one pass, as tuples.

        Each is ``(item, step, alt, annotator, source, value, score, confidence)``, the
        ``blind`` mark of its meta when asked, and last the event's ``seq`` (larger: newer);
        cleared ratings are left out: what agreement
        reads over a whole store, so no dict per row. ``source`` is exact (``"human"``) or a
        prefix ending in a colon (``"auto:"``).
        """
        with self._read() as connection:
            if items is None:
                return _queue.current(connection, kind, dataset=dataset, source=source, blind=blind)
            return _queue.current_in_chunks(
                connection, kind, list(items), dataset=dataset, source=source, blind=blind
            )

    def item_shapes(self, *, dataset: str | None = None) -> list[tuple[str, str, int]]:
        """``(item, dataset, number of steps)`` of every item: light enough for 100k items."""
        with self._read() as connection:
            return _queue.item_shapes(connection, dataset)

    def step_history(self, kind: str = "rating", *, dataset: str | None = None) -> list[Any]:
        """Every ``kind`` event as ``(item, step, alt, annotator, source, value, seq)``.

        In no order, from one sequential pass: for readers of a whole store that take the
        newest per key by ``seq`` themselves (``labwidget.agreement``); ``current_steps``
        gives the newest directly.
        """
        with self._read() as connection:
            return _queue.history(connection, kind, dataset=dataset)

    def known_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` are stored already: what a resumed run skips."""
        with self._read() as connection:
            return _queue.known_event_ids(connection, list(event_ids))

    def preferences(
        self, *, annotator: str | None = None, dataset: str | None = None
    ) -> list[dict[str, Any]]:
        """The current preference per (comparison, annotator), with the prompt and answers."""
        with self._read() as connection:
            query = _queries.current_preferences(annotator, dataset)
            rows = connection.execute(query).mappings().all()
        return [_queries.preference_dict(row) for row in rows]

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds: items, steps, events, comparisons, annotators."""
        with self._read() as connection:
            return _queries.counts(connection)
