"""What a step labeler shows beside the steps, by mode, and which of its queue's items are done.

- ``label`` (the default): the suggestions given, or (``suggestions="model:<name>"``) the
  current predictions of that model in the store; a blind item shows none (``suggest``'s
  ``blind_rate``), so labels there measure the model rather than the labeler's trust in it.
- ``review`` (``queue="review"``): the items the consensus router sends to people
  (``labwidget.auto.review_queue``); each step shows the rollouts' success rate and the judge's
  verdict with its rationale (with ``suggestions="model:<name>"``, that model's prediction too,
  none on a blind item), and the machines' label as the suggestion to accept. An item is done
  once no step of it waits for review.
- ``adjudicate``: the items where labelers disagree (``labwidget.disagreements``); each
  disputed step shows who said what, and a rating key stores the adjudicator's verdict (an
  ``adjudication`` event). An item is done once each of its disputes is settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from labwidget.agreement import adjudicated, disagreements
from labwidget.store import Store
from labwidget.widgets._queue import done_items

Mode = Literal["label", "review", "adjudicate"]
# What the page shows of the rollouts and the judge (``review_suggestions``' keys).
REVIEW_FIELDS = ("review", "mc_value", "mc_source", "mc_rate", "mc_n", "mc_successes")


@dataclass(frozen=True)
class Shows:
    """A labeler's mode: where its queue comes from and what it shows beside each item."""

    mode: Mode = "label"
    # "model:<name>": suggestions read from that model's predictions in the store.
    model: str | None = None
    # Adjudication also weighs the ``auto:`` sources' labels.
    auto: bool = False

    def queue(self, store: Store) -> list[str]:
        """The items a review or adjudication walks, in the store's order."""
        if self.mode == "review":
            from labwidget.auto.router import review_queue

            return review_queue(store)
        items: dict[str, None] = {}
        for dispute in disagreements(store, auto=self.auto):
            items.setdefault(dispute["item"], None)
        return list(items)

    def extras(self, store: Store, item: str, steps: int) -> dict[str, Any]:
        """``suggestions`` (None: the caller's) and ``evidence`` per step."""
        if self.mode == "review":
            found = _review_suggestions(store, item)
            shown = [None if s is None or s["human"] else _suggestion(s) for s in found]
            evidence = [None if s is None else _review(s) for s in found]
            if self.model is not None:  # the model's opinion too, beside the machines' labels
                predicted = _model_suggestions(store, item, self.model)
                for step, guess in enumerate(predicted[: len(evidence)]):
                    if guess is not None:
                        evidence[step] = {**(evidence[step] or {"review": False}), "model": guess}
            return {"suggestions": shown, "evidence": evidence}
        if self.mode == "adjudicate":
            disputes: list[dict[str, Any] | None] = [None] * steps
            for dispute in disagreements(store, items=[item], auto=self.auto, pending=False):
                if dispute["alt"] == 0 and dispute["step"] < steps:
                    disputes[dispute["step"]] = dispute
            return {
                "suggestions": [None] * steps,
                "evidence": [None if d is None else _who_said(d) for d in disputes],
            }
        if self.model is not None:
            shown = _model_suggestions(store, item, self.model)
            return {"suggestions": shown, "evidence": [None] * steps}
        return {"suggestions": None, "evidence": [None] * steps}

    def done(self, store: Store, items: Sequence[str]) -> set[str]:
        """The items of ``items`` this mode counts as done."""
        if self.mode == "label":
            return done_items(store, items)
        if self.mode == "review":
            return {
                item
                for item in items
                if not any(s is not None and s["review"] for s in _review_suggestions(store, item))
            }
        pending = disagreements(store, items=list(items), auto=self.auto)
        return set(items) - {dispute["item"] for dispute in pending}

    def adjudications(self, store: Store, item: str, steps: int) -> list[int | None]:
        """The settled label of each step (alternative 0) of ``item``, or None."""
        settled: list[int | None] = [None] * steps
        for (_, step, alt), value in adjudicated(store, items=[item]).items():
            if alt == 0 and 0 <= step < steps:
                settled[step] = value
        return settled


# The plain labeler: the suggestions it is given, nothing more.
LABEL = Shows()


# Machine labeling loads only where it is used: `import labwidget` stays light.
def _review_suggestions(store: Store, item: str) -> list[dict[str, Any] | None]:
    from labwidget.auto.router import review_suggestions

    return review_suggestions(store, item)


def _model_suggestions(store: Store, item: str, model: str) -> list[dict[str, Any] | None]:
    from labwidget.active import suggestions

    return suggestions(store, item, model=model)["suggestions"]


def _suggestion(found: dict[str, Any]) -> dict[str, Any]:
    return {k: found[k] for k in ("value", "confidence", "source")}


def _review(found: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of the machines' verdicts on one step."""
    evidence = {k: found[k] for k in REVIEW_FIELDS}
    evidence["judge_value"] = found["judge_value"]
    evidence["rationale"] = found["rationale"]
    return evidence


def _who_said(dispute: dict[str, Any]) -> dict[str, Any]:
    """Who rated a disputed step how, and from which source (``human``, ``auto:…``)."""
    return {
        "labels": [
            {"annotator": who, "source": dispute["sources"][who], "value": value}
            for who, value in sorted(dispute["labels"].items())
        ]
    }


def disputes_of(evidence: Sequence[Any]) -> list[dict[str, int] | None]:
    """Who said what at each disputed step (annotator -> rating), from an adjudication's evidence.

    >>> disputes_of([None, {"labels": [{"annotator": "x", "source": "human", "value": 1}]}])
    [None, {'x': 1}]
    """
    return [
        None if shown is None else {label["annotator"]: label["value"] for label in shown["labels"]}
        for shown in evidence
    ]


def shows_of(suggestions: Any, queue: Any, adjudicate: Any) -> Shows:
    """The labeler's mode (``_modes``) from its ``suggestions``, ``queue`` and ``adjudicate``."""
    if adjudicate not in (False, True, "auto"):
        raise ValueError(f"adjudicate is True, False or 'auto', not {adjudicate!r}")
    if isinstance(queue, str) and queue != "review":
        raise TypeError("queue is one string; pass a list of item ids, e.g. [item_id], or 'review'")
    model = suggestions if isinstance(suggestions, str) else None
    if model is not None and not model.startswith("model:"):
        raise TypeError(
            "suggestions must be a list with one {'value', 'confidence', 'source'} dict (or None) "
            f"per step, or 'model:<name>' for a model's predictions in the store, not {model!r:.40}"
        )
    if adjudicate:
        if queue == "review" or model is not None:
            raise TypeError("adjudicate shows who said what: give no review queue or model")
        return Shows("adjudicate", auto=adjudicate == "auto")
    if queue == "review":
        return Shows("review", model=model)
    return Shows("label", model=model)
