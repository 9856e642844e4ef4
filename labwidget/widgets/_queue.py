"""A labeling queue: which of its items this annotator has finished, and where to resume."""

from __future__ import annotations

from collections.abc import Sequence

from labwidget.store import Store


def done_items(store: Store, queue: Sequence[str]) -> set[str]:
    """The items of ``queue`` this annotator has finished, or rated at every step."""
    wanted = set(queue)
    finished: set[str] = set()
    rated: dict[str, set[int]] = {}
    # One item (the one just labeled) is looked up alone, not among all the annotator's labels.
    only = queue[0] if len(queue) == 1 else None
    for label in store.labels(item=only, annotator=store.annotator, kind=None):
        if label["item"] not in wanted:
            continue
        if label["kind"] == "finish":
            finished.add(label["item"])
        elif label["kind"] == "rating":
            rated.setdefault(label["item"], set()).add(label["step"])
    for item, steps in rated.items():
        if item not in finished and len(steps) >= len(store.item(item)["steps"]):
            finished.add(item)
    return finished


def resume_at(queue: Sequence[str], done: set[str]) -> int:
    """The first item not done yet (the last one when all are), so a restart picks up there."""
    for position, item in enumerate(queue):
        if item not in done:
            return position
    return max(len(queue) - 1, 0)
