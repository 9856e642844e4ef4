"""Math-Shepherd's Monte Carlo labels: each step is judged by rollouts from the prefix ending at it.

For a solution of K steps, the prefix ending at step k (k < K−1) gets ``n`` completions; the
step's value is the share that reach the right answer (hard: +1 if any does, soft: +1 if at
least half do). The last step needs no rollouts: the solution's own answer judges it, as in
Math-Shepherd and distilabel's completer. n·(K−1) rollouts per solution.
"""

from __future__ import annotations

from collections.abc import Callable

from labwidget.auto._search import Search
from labwidget.auto._settings import Event


class MonteCarlo(Search):
    """The state of one item under ``method="mc"``: which prefixes still need rollouts.

    Takes a ``Search``'s arguments; a re-run skips the prefixes whose labels are stored.
    """

    def begin(self, events: dict[str, Event], solved: Callable[[], bool]) -> list[Event]:
        """Every prefix but the whole solution needs rollouts; the solution's answer labels it."""
        settings, last = self.settings, self.size - 1
        self.todo = [
            k for k in range(last) if settings.event_id(self.item, k, "label") not in events
        ]
        if last >= 0 and settings.event_id(self.item, last, "label") not in events:
            return [settings.rollout_label(self.item, last, int(solved()), 1, direct=True)]
        return []

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
