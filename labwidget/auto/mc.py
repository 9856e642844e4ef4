"""Math-Shepherd's Monte Carlo labels: each step is judged by rollouts from the prefix ending at it.

For a solution of K steps, the prefix ending at step k (k < K−1) gets ``n`` completions; the
step's value is the share that reach the right answer (hard: +1 if any does, soft: +1 if at
least half do). The last step needs no rollouts: the solution's own answer judges it, as in
Math-Shepherd and distilabel's completer. n·(K−1) rollouts per solution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labwidget.auto._settings import Event, Settings


class MonteCarlo:
    """The state of one item under ``method="mc"``: which prefixes still need rollouts.

    Args:
        item: the item as the store gives it.
        events: the events already stored for it, by event id (a re-run skips their prefixes).
        settings: the run's settings.
        solved: whether the solution's own final answer is right (asked only if needed).
    """

    def __init__(
        self,
        item: dict[str, Any],
        events: dict[str, Event],
        settings: Settings,
        solved: Callable[[], bool],
    ) -> None:
        self.item = item["id"]
        self.settings = settings
        last = len(item["steps"]) - 1
        self.todo = [
            k for k in range(last) if settings.event_id(self.item, k, "label") not in events
        ]
        self.start: list[Event] = []
        if last >= 0 and settings.event_id(self.item, last, "label") not in events:
            right = solved()
            self.start.append(settings.rollout_label(self.item, last, int(right), 1, direct=True))

    @property
    def finished(self) -> bool:
        """True once every step has its label."""
        return not self.todo

    def pending(self) -> list[int]:
        """The steps whose prefixes need rollouts now (all of them at once)."""
        return list(self.todo)

    def record(self, step: int, successes: int) -> list[Event]:
        """The label that ``successes`` out of ``settings.n`` rollouts give ``step``."""
        self.todo.remove(step)
        return [self.settings.rollout_label(self.item, step, successes, self.settings.n)]
