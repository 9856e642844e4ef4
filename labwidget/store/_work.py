"""Handing out work: claims on items, in an order, and the queue priorities orders read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labwidget.store import _claims, _queue
from labwidget.store._core import StoreCore


class Work(StoreCore):
    """Who labels what next: claims that lapse, released items, and the work queue's rows."""

    def set_priorities(self, rows: Sequence[dict[str, Any]]) -> int:
        """Write the work queue's priorities of items (see ``claim``'s orders); lower first.

        Each row: ``item``, ``uncertainty``, ``convincing_wrong``, ``disagreement`` (None:
        not in that order) and ``scored_by``. Returns how many items were updated.
        """
        with self._transaction() as connection:
            return _queue.set_priorities(connection, rows)

    def queue(self, items: Sequence[str]) -> list[dict[str, Any]]:
        """The work queue's rows of ``items``: ``people`` who labeled each, its priorities."""
        with self._read() as connection:
            return _queue.queue_rows(connection, list(items))

    def claim(
        self,
        n: int,
        *,
        annotator: str | None = None,
        overlap: int = 1,
        ttl_s: float = 3600.0,
        dataset: str | None = None,
        order: str = "oldest",
        seed: int = 0,
    ) -> list[str]:
        """Hand out up to ``n`` items to label, in ``order``, and return their ids.

        Each item goes to at most ``overlap`` distinct people (counting unexpired claims and
        anyone who labeled it; machines, ``auto:…`` and ``model:…``, do not count) and never
        twice to the same annotator. A claim lapses after ``ttl_s`` seconds, so a closed laptop
        does not hold work forever. Concurrent claimers never over-assign: PostgreSQL locks
        candidates with FOR UPDATE SKIP LOCKED, SQLite serializes claimers with an immediate
        write transaction.

        ``order``: ``"oldest"`` first; ``"random"`` (a shuffle the ``seed`` picks the start
        of); or by your PRM's scores (``labwidget.suggest`` writes them): ``"uncertainty"``
        (a step probability nearest 0.5 first), ``"convincing_wrong"`` (a wrong final answer
        the PRM rates high), ``"disagreement"`` (the PRM against the ``auto:`` labels). Items
        the PRM has not scored come after the scored ones, oldest first.
        """
        if n < 0 or overlap < 1 or ttl_s <= 0:
            raise ValueError("claim needs n >= 0, overlap >= 1 and ttl_s > 0")
        _claims.segments(order, seed)  # an unknown order is refused before any write
        who = annotator or self.annotator
        with self._transaction() as connection:
            return _claims.claim(
                connection,
                n,
                annotator=who,
                overlap=overlap,
                ttl_s=ttl_s,
                dataset=dataset,
                order=order,
                seed=seed,
            )

    def release(self, item: str, *, annotator: str | None = None) -> None:
        """Give a claimed item back before its claim lapses."""
        with self._transaction() as connection:
            _claims.release(connection, item, annotator or self.annotator)
