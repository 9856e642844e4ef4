"""OmegaPRM's binary search for the first error: about n·log2(K) rollouts instead of n·K.

A prefix is "correct so far" when some rollout from it reaches the right answer. If the
solution's own answer is right, every prefix is (the solution itself continues each one): all
steps +1, no rollouts. Otherwise the full solution is known wrong, and a binary search over the
prefixes finds the first one from which no rollout succeeds. Steps before it are +1, it is −1,
later steps stay unlabeled (PRM800K stops at the first error too).

Every probe is stored as it is made, so a re-run repeats none: a prefix that succeeds labels its
last step +1 at once; one that fails leaves a note (kind ``note``, meta ``{n, successes: 0}``)
rather than a rating, since only the search's end says which failing step is the first.
"""

from __future__ import annotations

from collections.abc import Callable

from labwidget.auto._search import Search
from labwidget.auto._settings import Event


class Bisect(Search):
    """The state of one item under ``method="bisect"``: the interval that holds the first error.

    ``low`` is the first step not known correct, ``high`` a step whose prefix is known to fail;
    the first error lies in ``[low, high]``. Takes a ``Search``'s arguments; a re-run reuses
    the probes stored before.
    """

    def begin(self, events: dict[str, Event], solved: Callable[[], bool]) -> list[Event]:
        """The interval the stored probes leave; all steps +1 if the solution's answer is right."""
        settings = self.settings
        self.low = self.high = 0
        labels = [events.get(settings.event_id(self.item, k, "label")) for k in range(self.size)]
        self.labeled = {k for k, label in enumerate(labels) if label is not None}
        if len(self.labeled) == self.size or any(e and e["value"] == -1 for e in labels):
            return []  # finished in an earlier run
        if solved():
            return self._all_correct()
        self.high = self.size - 1
        for k, label in enumerate(labels):
            if settings.event_id(self.item, k, "probe") in events:
                self.high = min(self.high, k)
            if label is not None and "successes" in (label["meta"] or {}):
                self.low = max(self.low, k + 1)
        return self._found() if self.finished else []

    @property
    def finished(self) -> bool:
        """True once the first error is found (or the solution is right)."""
        return self.low >= self.high

    def pending(self) -> list[int]:
        """The one step whose prefix the search probes next."""
        return [] if self.finished else [(self.low + self.high) // 2]

    def record(self, step: int, successes: int) -> list[Event]:
        """Narrow the interval by one probe; the labels as well once it closes."""
        n = self.settings.n
        if successes:
            self.low = step + 1
            self.labeled.add(step)
            rows = [self.settings.rollout_label(self.item, step, successes, n, probe=True)]
        else:
            self.high = step
            rows = [
                self.settings.event(
                    self.item,
                    step,
                    "probe",
                    kind="note",
                    text=f"bisect: none of {n} rollouts from this step reached the answer",
                    meta={"n": n, "successes": 0, "rate": 0.0, "probe": True},
                )
            ]
        return rows + self._found() if self.finished else rows

    def _all_correct(self) -> list[Event]:
        last = self.size - 1
        return [
            self.settings.event(
                self.item,
                k,
                "label",
                value=1,
                confidence=1.0,
                meta={"direct": True} if k == last else {"implied": True},
            )
            for k in range(self.size)
            if k not in self.labeled
        ]

    def _found(self) -> list[Event]:
        """+1 before the first error (probed steps keep their own label), −1 at it."""
        error = self.low
        rows = [
            self.settings.event(
                self.item,
                k,
                "label",
                value=1,
                confidence=1.0,
                meta={"implied": True, "first_error": error},
            )
            for k in range(error)
            if k not in self.labeled
        ]
        direct = error == self.size - 1
        rows.append(
            self.settings.event(
                self.item,
                error,
                "label",
                value=-1,
                confidence=1.0,
                meta={
                    "first_error": error,
                    "n": 1 if direct else self.settings.n,
                    "successes": 0,
                    "rate": 0.0,
                    **({"direct": True} if direct else {}),
                },
            )
        )
        return rows
