"""A labeling queue: which items this annotator has finished, where to resume, the weekly cap."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from labwidget.store import Store

# The least time between two counts of this annotator's week (CapWatch).
CAP_CHECK_S = 60.0


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


class CapWatch:
    """The annotator's hours this week against the store's weekly cap, looked up sparingly.

    Without a ``weekly_cap_h`` setting nothing is ever queried. With one, the week is counted
    when the labeler opens and then at most every ``every_s`` seconds as labels land: the
    notice is gentle, and a label must not wait for a count of the week.
    """

    def __init__(self, store: Store, *, every_s: float = CAP_CHECK_S) -> None:
        self._store = store
        self._every_s = every_s
        self._capped = store.settings().get("weekly_cap_h") is not None
        self._checked = -math.inf
        self.status: dict[str, Any] = {}
        self.check()

    def check(self) -> bool:
        """Counts the week again if it is time to; True if the status may have changed."""
        now = time.monotonic()
        if not self._capped or now - self._checked < self._every_s:
            return False
        self._checked = now
        found = self._store.cap_status()
        self.status = {k: found[k] for k in ("hours_this_week", "cap_h", "crossed")}
        return True
