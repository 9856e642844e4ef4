"""PairLabeler: a prompt and two answers side by side; the annotator says which is better."""

from __future__ import annotations

from typing import Any

import traitlets

from labwidget._signing import kernel_key, signed_context
from labwidget.commits import commit, pair_context
from labwidget.store import PREFERENCES, Store
from labwidget.widgets._base import FollowUp, Handler, LabWidget
from labwidget.widgets._inputs import check_text


class PairLabeler(LabWidget):
    """Say which of two answers to a prompt is better (a pairwise preference) from the keyboard.

    Keys, while the widget has focus: ``a`` or ``1`` A is better, ``b`` or ``2`` B is better,
    ``t`` or ``3`` a tie; with Shift, ``A`` / ``B`` mean much better (strength 2 instead of 1).
    Each preference is committed with the time since the widget appeared or since the last
    preference (``duration_ms``); the newest one per annotator is the current one.

    Args:
        prompt: the question or prompt both answers respond to (a string; "" for none).
        answer_a: the answer shown on the left, one string (join an answer's steps first).
        answer_b: the answer shown on the right, one string.
        store: where preferences are committed; re-adding the same texts reuses the comparison.
        dataset: the dataset the comparison belongs to in the store.
        meta: any JSON-able facts about the answers (models, checkpoints, settings).
        source: where the answers came from, for the store's records.

    """

    _bundle_name = "pair"

    # Inputs, set from Python.
    prompt = traitlets.Unicode("", help="The prompt both answers respond to.").tag(sync=True)
    answer_a = traitlets.Unicode("", help="Answer A, shown on the left.").tag(sync=True)
    answer_b = traitlets.Unicode("", help="Answer B, shown on the right.").tag(sync=True)
    comparison_id = traitlets.Unicode("", help="The comparison's content id in the store.").tag(
        sync=True
    )
    # Captured outputs: this annotator's committed preference, written by Python only.
    preference = traitlets.Enum(
        PREFERENCES,
        default_value=None,
        allow_none=True,
        help='The committed preference: "a", "b", "tie", or None before any.',
    ).tag(sync=True)
    strength = traitlets.Float(
        None,
        allow_none=True,
        help="How much better the preferred answer is (1 better, 2 much better); None for a tie.",
    ).tag(sync=True)

    def __init__(
        self,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        store: Store,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        prompt = check_text(prompt, "prompt")
        answer_a, answer_b = check_answer(answer_a, "answer_a"), check_answer(answer_b, "answer_b")
        new_id = store.add_comparison(
            prompt, answer_a, answer_b, dataset=dataset, meta=meta, source=source
        )
        preference, strength = _saved_preference(store, new_id)
        super().__init__(
            store=store,
            prompt=prompt,
            answer_a=answer_a,
            answer_b=answer_b,
            comparison_id=new_id,
            preference=preference,
            strength=strength,
            _direct=signed_context(store, pair_context(new_id), kernel_key()),
        )

    def _handlers(self) -> dict[str, Handler]:
        return {"preference": self._on_preference, "committed": self._on_committed}

    def _on_preference(self, event: dict[str, Any]) -> FollowUp:
        new = commit(self.store, pair_context(self.comparison_id), event)
        preference, strength = event["preference"], event.get("strength")
        # A resent event may be older than one committed since; only the store knows which is
        # current then. A new event is the newest, so the store need not be asked.
        return lambda: self._show_committed((preference, strength) if new else None)

    def _on_committed(self, _event: dict[str, Any]) -> None:
        """The page's word that the server extension committed its preferences directly.

        The traits are re-read before the ack: the page keeps what its acks showed until then.
        """
        self._show_committed(None)

    def _show_committed(self, newest: tuple[str, float | None] | None) -> None:
        """The traits show the committed preference (``newest``, or the store's)."""
        saved = newest or _saved_preference(self.store, self.comparison_id)
        with self.hold_sync():  # one update message
            self.preference, self.strength = saved


def check_answer(answer: object, name: str) -> str:
    """One answer to compare: a string; a list of steps is refused with how to join it."""
    if isinstance(answer, list | tuple) and all(isinstance(step, str) for step in answer):
        raise TypeError(f"{name} is a list of steps; pass one string, e.g. '\\n'.join(steps)")
    return check_text(answer, name)


def _saved_preference(store: Store, comparison: str) -> tuple[str | None, float | None]:
    """The store's current preference and strength of ``comparison`` by its annotator."""
    for row in store.preferences(annotator=store.annotator):
        if row["comparison"] == comparison:
            return row["preference"], row["strength"]
    return None, None


def compare(
    answer_a: str,
    answer_b: str,
    *,
    prompt: str,
    store: Store,
    dataset: str = "default",
    meta: dict[str, Any] | None = None,
    source: str | None = None,
) -> PairLabeler:
    """A :class:`PairLabeler` for two answers to ``prompt``; show it as a cell's last value.

    Args:
        answer_a: the answer shown on the left.
        answer_b: the answer shown on the right.
        prompt: the question or prompt both answers respond to.
        store: where preferences are committed.
        dataset: the dataset the comparison belongs to in the store.
        meta: any JSON-able facts about the answers.
        source: where the answers came from.

    """
    return PairLabeler(
        prompt, answer_a, answer_b, store=store, dataset=dataset, meta=meta, source=source
    )
