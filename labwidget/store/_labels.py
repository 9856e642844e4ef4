"""Labels: events of every kind, their shorthands, pairwise preferences, and undo.

Every writer takes one label event's fields as keywords, typed once in ``_events``
(``LabelFields`` and the parts of it each shorthand leaves open) and checked once, in ``Batch``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labwidget.store import _queries
from labwidget.store._core import StoreCore
from labwidget.store._errors import LabelError

if TYPE_CHECKING:
    from typing import Unpack

    from labwidget.store._events import AtAlternative, LabelFields, Noted, Provenance

# What an undo copies from the label it restores.
PAYLOAD = ("value", "text", "score")


class Labels(StoreCore):
    """Committing label events and preferences, one transaction each, and undoing labels."""

    def record(self, kind: str, *, item: str, **event: Unpack[LabelFields]) -> bool:
        """Commit one label event of any kind; True if it was new, False for a repeated id.

        Kinds: ``rating`` (value -1/0/+1), ``flag`` (value 1/0), ``choice`` (value = the chosen
        alternative), ``replacement`` and ``note`` (text), ``finish`` (text = the reason,
        duration_ms = the time spent), ``score`` (a number for the whole item), ``prediction``
        (score = a model's probability that the step is correct, value +1/-1: a suggestion,
        see ``labwidget.suggest``) and ``adjudication`` (value -1/0/+1 settling a disagreement).
        ``source`` is ``human``, ``model:<name>`` or ``auto:<method>``. The keywords are those of
        ``LabelFields``: ``step``, ``alt``, ``value``, ``text``, ``score``, and ``Provenance``'s
        ``event_id``, ``annotator``, ``source``, ``confidence``, ``duration_ms``,
        ``client_time``, ``created_at``, with ``meta``.

        Raises:
            LabelError: the event does not fit its kind, or the item or step does not exist.
        """
        return self._write_one(lambda batch: batch.record(kind, item=item, **event))[1]

    def record_label(
        self, *, item: str, step: int, value: int | None, **event: Unpack[AtAlternative]
    ) -> bool:
        """Commit a step rating (-1, 0 or +1) at ``alt`` (default 0); see ``record``."""
        return self.record("rating", item=item, step=step, value=value, **event)

    def flag_step(
        self, *, item: str, step: int, flagged: bool = True, **event: Unpack[AtAlternative]
    ) -> bool:
        """Flag a step as "can't tell" (or clear the flag); see ``record``."""
        return self.record("flag", item=item, step=step, value=int(flagged), **event)

    def choose(self, *, item: str, step: int, alt: int, **event: Unpack[Noted]) -> bool:
        """Record which alternative at ``step`` continues the solution; see ``record``."""
        return self.record("choice", item=item, step=step, value=alt, **event)

    def replace_step(
        self, *, item: str, step: int, text: str, **event: Unpack[AtAlternative]
    ) -> bool:
        """Record a step written by the annotator in place of the model's; see ``record``."""
        return self.record("replacement", item=item, step=step, text=text, **event)

    def finish(self, *, item: str, reason: str, **event: Unpack[Noted]) -> bool:
        """Record why labeling of an item ended and (``duration_ms``) how long it took."""
        return self.record("finish", item=item, text=reason, **event)

    def rate_item(self, *, item: str, score: float, **event: Unpack[Noted]) -> bool:
        """Record a scalar rating of a whole item; see ``record``."""
        return self.record("score", item=item, score=score, **event)

    def adjudicate(
        self, *, item: str, step: int, value: int, **event: Unpack[AtAlternative]
    ) -> bool:
        """Record the label (-1, 0, +1) a person settles a disagreement at a step with.

        Datasets and exports take it in place of every annotator's rating of that step (see
        ``labwidget.disagreements``); the adjudicator is the event's annotator.
        """
        return self.record("adjudication", item=item, step=step, value=value, **event)

    def record_preference(
        self,
        comparison: str,
        preference: str | None,
        *,
        strength: float | None = None,
        **event: Unpack[Provenance],
    ) -> bool:
        """Commit a preference ("a", "b" or "tie", None to clear) between a comparison's answers."""
        return self._write_one(
            lambda batch: batch.record_preference(
                comparison, preference, strength=strength, **event
            )
        )[1]

    def undo(
        self,
        *,
        item: str,
        step: int,
        alt: int = 0,
        kind: str = "rating",
        annotator: str | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Undo the newest rating (or flag) of a step, as a new event restoring the one before.

        Returns the label now current, or None when none is left. Repeated undos walk back
        through the history; the undone events stay in the store.
        """
        if kind not in _queries.CLEARED:
            raise LabelError(f"only {' and '.join(_queries.CLEARED)} labels can be undone")
        who = annotator or self.annotator
        with self._read() as connection:
            rows = connection.execute(_queries.events(item, who, kind)).all()
        history = [
            e for e in map(_queries.event_dict, rows) if e["step"] == step and e["alt"] == alt
        ]
        stack: list[dict[str, Any]] = []
        for event in history:
            undone = (event["meta"] or {}).get("undoes")
            if undone is not None and stack and stack[-1]["event_id"] == undone:
                stack.pop()
            else:
                stack.append(event)
        if not stack:
            raise LabelError(f"nothing to undo at step {step} of item {item!r}")
        restored = stack[-2] if len(stack) > 1 else None
        payload = {k: restored[k] for k in PAYLOAD} if restored else _queries.CLEARED[kind]
        self.record(
            kind,
            item=item,
            step=step,
            alt=alt,
            annotator=who,
            event_id=event_id,
            meta={"undoes": stack[-1]["event_id"]},
            **payload,
        )
        return restored
