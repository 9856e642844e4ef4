"""One annotator's current labels on one item, folded from the store's event history.

Exporters read these instead of ``Store.labels``: that leaves out cleared flags, and PRM800K
tells ``"flagged": false`` (a cleared flag) apart from ``null`` (no flag event at all).

A labeling need not cover the whole item: a PRM800K phase-2 line labels a prefix of a whole
solution. ``Labeling.item`` is the item cut to the steps the labeling covers, and every export
and dataset (``formats.trl``, ``data.StepDataset``) reads the steps from it, so the unlabelled
rest of a solution never becomes a row or a label.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labwidget.store import Store

# The key of a finish event's meta that says how many leading steps of the item it labelled.
LABELED_STEPS = "labeled_steps"


@dataclass
class Labeling:
    """What one annotator's newest events say about one item.

    Attributes:
        item: the item as ``Store.items`` gives it, cut to the steps this labeling covers.
            Where the newest finish event says how many leading steps it labelled
            (``meta["labeled_steps"]``, which a PRM800K import records when the item holds
            more of the solution than the line labelled), those, and any later step this
            annotator has labelled since; otherwise every step.
        whole_item: the item with all of its steps.
        annotator: whose labels these are.
        ratings: the rating at each (step, alternative); None where it was cleared.
        flags: the flag (1 or 0) at each (step, alternative).
        choices: the chosen alternative at each step.
        replacements: the replacement event at each step (its ``text`` and ``meta``).
        finish: the finish event, or None.
        score: the scalar score of the whole item, or None.
        last_at: when the newest event was recorded (ISO 8601).
        skipped: the ids of events left out because the item has no such step.
    """

    item: dict[str, Any]
    annotator: str
    ratings: dict[tuple[int, int], int | None] = field(default_factory=dict)
    flags: dict[tuple[int, int], int] = field(default_factory=dict)
    choices: dict[int, int] = field(default_factory=dict)
    replacements: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish: dict[str, Any] | None = None
    score: float | None = None
    last_at: str = ""
    skipped: list[str] = field(default_factory=list)
    whole_item: dict[str, Any] = field(init=False)
    # The finish event's labelled steps, 1 + the last step with an event, and so the steps
    # ``item`` holds (None: all).
    _labeled: int | None = field(default=None, init=False, repr=False)
    _reached: int = field(default=0, init=False, repr=False)
    _covers: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.whole_item = self.item

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event, newer than every event applied before it, into the labels.

        An event naming a step or alternative the item does not have (something written
        around the store, which refuses them) is left out, with a warning naming the first such
        event of the labeling.
        """
        kind, step, at = event["kind"], event["step"], (event["step"], event["alt"])
        if not _fits(event, self.whole_item["alternatives"]):
            if not self.skipped:
                chosen = f", choice {event['value']}" if kind == "choice" else ""
                warnings.warn(
                    f"skipped label event {event['event_id']!r} by {self.annotator!r} on item "
                    f"{self.item['id']!r}: it names step {step}, alternative {event['alt']}"
                    f"{chosen}, which the item does not have: the label or the item's steps "
                    "were written around the store, which never lets them disagree (later "
                    "events like it in this labeling are skipped without a word)",
                    UserWarning,
                    stacklevel=2,
                )
            self.skipped.append(event["event_id"])
            return
        if kind == "rating":
            self.ratings[at] = event["value"]
        elif kind == "flag":
            self.flags[at] = event["value"]
        elif kind == "choice":
            self.choices[step] = event["value"]
        elif kind == "replacement":
            self.replacements[step] = event
        elif kind == "finish":
            self.finish = event
            self._labeled = (event["meta"] or {}).get(LABELED_STEPS)
        elif kind == "score":
            self.score = event["score"]
        self.last_at = event["created_at"]
        if step is not None and step >= self._reached:
            self._reached = step + 1
        if kind == "finish" or (step is not None and self._labeled is not None):
            covers = None if self._labeled is None else max(self._labeled, self._reached)
            if covers != self._covers:
                self._covers = covers
                self.item = _covered(self.whole_item, covers)


def _covered(item: dict[str, Any], steps: int | None) -> dict[str, Any]:
    """``item`` cut to its first ``steps`` steps (all of them for None or more).

    >>> _covered({"id": "x", "steps": ["a", "b"], "alternatives": [["a"], ["b"]]}, 1)
    {'id': 'x', 'steps': ['a'], 'alternatives': [['a']]}
    """
    if steps is None or steps >= len(item["steps"]):
        return item
    return {**item, "steps": item["steps"][:steps], "alternatives": item["alternatives"][:steps]}


def _fits(event: dict[str, Any], alternatives: Sequence[Sequence[str]]) -> bool:
    """Whether an event's step, alternative and chosen alternative exist in the item."""
    step = event["step"]
    if step is None:
        return True
    if not (0 <= step < len(alternatives) and 0 <= event["alt"] < len(alternatives[step])):
        return False
    return bool(event["kind"] != "choice" or 0 <= event["value"] < len(alternatives[step]))


def settle(labeling: Labeling, verdicts: dict[tuple[int, int], int]) -> None:
    """Put the adjudicated label in place of the labeling's rating at each adjudicated step.

    Steps the annotator did not rate stay unrated: a verdict settles a rating, it does not
    label for someone.
    """
    for at, value in verdicts.items():
        if labeling.ratings.get(at) is not None:
            labeling.ratings[at] = value


def labelings(
    store: Store,
    *,
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
    adjudicated: bool = True,
    items: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[Labeling]:
    """Every (item, annotator) pair with events, in item order, then in order of first event.

    The store resolves each labeling's newest labels (``Store.labeled_items``); a labeling with
    an event the item has no step for is replayed event by event instead, to warn as ``apply``
    does.

    Args:
        store: the store to read.
        dataset: only items of this dataset.
        annotator: only this annotator's events.
        source: only events from this source: a family (``"model"``: ``model`` and every
            ``model:…``) or an exact one (``"model:judge-7b"``).
        adjudicated: where a step was adjudicated, its newest adjudication replaces every
            labeling's rating of it (whoever the adjudicator is).
        items: only these items.
        since: only events recorded at or after this time.
        until: only events recorded before this time.
    """
    found_items = store.labeled_items(
        items, dataset=dataset, annotator=annotator, source=source, since=since, until=until
    )
    for found in found_items:
        item = found["item"]
        for newest in found["labelings"]:
            labeling = _from_newest(item, newest)
            if labeling is None:
                labeling = Labeling(item=item, annotator=newest["annotator"])
                history = store.labeling_history(
                    item["id"], newest["annotator"], source=source, since=since, until=until
                )
                for event in history:
                    labeling.apply(event)
            if adjudicated:
                settle(labeling, found["adjudications"])
            yield labeling


def _from_newest(item: dict[str, Any], newest: dict[str, Any]) -> Labeling | None:
    """The labeling ``apply`` folds from every event, made from the newest events alone.

    Those are the newest of each kind, step and alternative (``Store.labeled_items``); None if
    one names a step the item lacks.
    """
    alternatives = item["alternatives"]
    labeling = Labeling(item=item, annotator=newest["annotator"])
    ratings, flags, choices = labeling.ratings, labeling.flags, labeling.choices
    reached = 0
    for kind, step, alt, value, _, score, _ in newest["labels"]:
        if step is not None:
            if not (0 <= step < len(alternatives) and 0 <= alt < len(alternatives[step])):
                return None
            if kind == "choice" and not 0 <= value < len(alternatives[step]):
                return None
            reached = max(reached, step + 1)
        if kind == "rating":
            ratings[(step, alt)] = value
        elif kind == "flag":
            flags[(step, alt)] = value
        elif kind == "choice":
            choices[step] = value
        elif kind == "score":
            labeling.score = score
    for event in newest["events"]:
        if event["kind"] == "finish":
            labeling.finish = event
        else:
            labeling.replacements[event["step"]] = event
    labeling.last_at = newest["last_at"]
    # As ``apply`` leaves it: the newest finish's labelled steps, widened to every step since.
    finish = labeling.finish
    labeled = None if finish is None else (finish["meta"] or {}).get(LABELED_STEPS)
    if labeled is not None:
        labeling.item = _covered(item, max(labeled, reached))
    return labeling
