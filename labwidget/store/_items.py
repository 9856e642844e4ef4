"""Items (a prompt and its steps), their alternatives and token scores, and comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from labwidget.store import _postgres, _queries, _token_scores
from labwidget.store._core import StoreCore
from labwidget.store._errors import LabelError
from labwidget.store._events import StepSpec, clean_text, iso
from labwidget.store.schema import comparisons, items, steps


class Items(StoreCore):
    """Adding items and comparisons, and reading them back as plain dicts."""

    def add_item(
        self,
        prompt: str,
        steps: Sequence[StepSpec],
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> str:
        """Store an item (a prompt and its steps) and return its content-hash id.

        A step is a string, or a list of alternative completions at that position (PRM800K);
        alternative 0 is the one on the item's own path. Adding the same item again is a no-op.
        """
        return self._write_one(
            lambda batch: batch.add_item(prompt, steps, dataset=dataset, meta=meta, source=source)
        )[0]

    def add_comparison(
        self,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> str:
        """Store two answers to one prompt for a pairwise preference; returns its content id."""
        return self._write_one(
            lambda batch: batch.add_comparison(
                prompt, answer_a, answer_b, dataset=dataset, meta=meta, source=source
            )
        )[0]

    def add_alternatives(self, item: str, step: int, texts: Sequence[str]) -> list[int]:
        """Add candidate completions at ``step`` of ``item``; returns their alternative indexes.

        The item keeps its id (its labels stay attached); a text already there is not added
        twice and its existing index comes back.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise LabelError("alternatives must be a list of non-empty strings")
        with self._transaction() as connection:
            if self.backend == "postgresql":
                # Through the function that is the only way annotators may add steps.
                return _postgres.add_alternatives(
                    connection, item, step, list(map(clean_text, texts))
                )
            rows = connection.execute(
                sa.select(steps.c.alt, steps.c.text).where(
                    steps.c.item_id == item, steps.c.position == step
                )
            ).all()
            if not rows:
                raise LabelError(f"item {item!r} has no step {step}")
            known = {row.text: row.alt for row in rows}
            indexes: list[int] = []
            for text in map(clean_text, texts):
                if text not in known:
                    known[text] = max(known.values()) + 1
                    connection.execute(
                        sa.insert(steps).values(
                            item_id=item, position=step, alt=known[text], text=text, chosen=False
                        )
                    )
                indexes.append(known[text])
        return indexes

    def items(self, *, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every item as a dict (id, dataset, prompt, steps, alternatives, meta, source, …).

        ``steps`` is the item's own path (alternative 0 at each position); ``alternatives``
        lists every candidate at each position.
        """
        with self._read() as connection:
            where = None if dataset is None else items.c.dataset == dataset
            return _queries.item_dicts(connection, where)

    def item(self, item_id: str) -> dict[str, Any]:
        """One item as ``items()`` gives it; KeyError when there is none."""
        with self._read() as connection:
            found = _queries.item_dicts(connection, items.c.id == item_id)
        if not found:
            raise KeyError(item_id)
        return found[0]

    def add_token_scores(
        self,
        item: str,
        tokens: Sequence[str],
        scores: Sequence[float],
        step_token_counts: Sequence[int],
        *,
        kind: str = "logprob",
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Keep an item's per-token scores (its heatmap), as compact float32 and UTF-8 binary.

        ``tokens`` run step after step (``step_token_counts`` per step), one finite ``score``
        each; ``kind`` is ``logprob``, ``entropy`` or ``score``, and ``meta`` says more about
        them (e.g. the distribution). An item keeps the first scores stored; later ones are a
        no-op, as re-adding the item is.
        """
        self._write_one(
            lambda batch: batch.add_token_scores(
                item, tokens, scores, step_token_counts, kind=kind, meta=meta
            )
        )

    def token_scores(self, item: str) -> dict[str, Any] | None:
        """The per-token scores kept with ``item`` (see ``add_token_scores``), or None.

        A dict: ``item``, ``kind``, ``tokens``, ``scores`` (the stored float32 values),
        ``step_token_counts``, ``meta``, ``created_at``.
        """
        with self._read() as connection:
            return _token_scores.read(connection, item)

    def comparisons(self, *, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every comparison as a dict (id, dataset, prompt, answer_a, answer_b, meta, …)."""
        query = sa.select(comparisons).order_by(comparisons.c.created_at, comparisons.c.id)
        if dataset is not None:
            query = query.where(comparisons.c.dataset == dataset)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [{**row, "created_at": iso(row["created_at"])} for row in rows]
