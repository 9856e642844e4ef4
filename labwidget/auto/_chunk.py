"""Labeling a few items together: their prefixes share generator calls, their events one writer.

Nothing here touches the store: the events already stored come in, new events go out through
``write`` (the store's batch path on this machine, a list in a Ray task), one call's worth at a
time, so an interrupted run loses at most the call in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from labwidget.auto._calls import call, check_completions, where
from labwidget.auto._search import Search
from labwidget.auto._settings import Event, Settings
from labwidget.auto.bisect import Bisect
from labwidget.auto.checkers import Checker
from labwidget.auto.judge import Judge, judge_events
from labwidget.auto.mc import MonteCarlo
from labwidget.auto.prefix import Generator, Prefix
from labwidget.auto.router import consensus_events

Write = Callable[[list[Event]], None]


@dataclass
class Job:
    """Everything a run needs besides the store: picklable, so Ray tasks get it whole."""

    settings: Settings
    generator: Generator
    checker: Checker
    judge: Judge | None = None
    timeout_s: float | None = 600.0
    batch: int = 64


@dataclass
class Tally:
    """What a run (or part of it) did: items finished now, found finished, failed; rollouts."""

    done: int = 0
    skipped: int = 0
    failed: int = 0
    rollouts: int = 0

    def add(self, other: Tally) -> None:
        """Count another part's work in."""
        self.done += other.done
        self.skipped += other.skipped
        self.failed += other.failed
        self.rollouts += other.rollouts


def label_chunk(
    job: Job,
    items: list[dict[str, Any]],
    stored: dict[str, dict[str, Event]],
    write: Write,
    tally: Tally,
    progress: Callable[[int], None] = lambda finished: None,
) -> None:
    """Label ``items`` (store dicts), given the events ``stored`` for each, by event id.

    Counts into ``tally`` as it goes, so a failure leaves the counts of what finished, and
    calls ``progress`` after each generator call (0) and each finished item (1). Raises
    AutolabelError naming the item and step of the first failure.
    """
    settings = job.settings
    by_id = {item["id"]: item for item in items}
    known = {item["id"]: dict(stored.get(item["id"], {})) for item in items}
    touched: set[str] = set()

    def emit(rows: list[Event]) -> None:
        if rows:
            write(rows)
            for row in rows:
                known[row["item"]][row["event_id"]] = row
                touched.add(row["item"])

    searches: dict[str, Search] = {}
    start: list[Event] = []
    for item in items:
        method = MonteCarlo if settings.method == "mc" else Bisect
        search = method(item, known[item["id"]], settings, partial(_solved, job, item))
        searches[item["id"]] = search
        start += search.start
    emit(start)

    while probes := [(i, step) for i, s in searches.items() for step in s.pending()]:
        for first in range(0, len(probes), job.batch):
            emit(_rollouts(job, by_id, searches, probes[first : first + job.batch], tally))
            progress(0)

    for item in items:
        item_id, steps = item["id"], len(item["steps"])
        if job.judge is not None and steps:
            if not any(settings.judge_id(item_id, k) in known[item_id] for k in range(steps)):
                verdicts = call(
                    job.judge,
                    (item["prompt"], list(item["steps"])),
                    timeout_s=job.timeout_s,
                    what=f"{where(item_id, None)}: the judge",
                )
                emit(judge_events(settings, item_id, steps, verdicts))
            agreed = consensus_events(settings, item_id, steps, known[item_id])
            emit([e for e in agreed if e["event_id"] not in known[item_id]])
        if item_id in touched:
            tally.done += 1
        else:
            tally.skipped += 1
        progress(1)


def _solved(job: Job, item: dict[str, Any]) -> bool:
    """Whether the solution's own final answer is right (its last step, judged directly)."""
    text = "\n".join(item["steps"])
    what = f"{where(item['id'], len(item['steps']) - 1)}: the checker"
    return bool(call(job.checker, (item, text), timeout_s=None, what=what))


def _rollouts(
    job: Job,
    items: dict[str, dict[str, Any]],
    searches: dict[str, Search],
    probes: list[tuple[str, int]],
    tally: Tally,
) -> list[Event]:
    """One generator call for ``probes`` (item, step): each prefix's rollouts, checked."""
    settings, n = job.settings, job.settings.n
    prompts: list[str] = [
        Prefix(
            items[i]["prompt"], items[i]["steps"][: step + 1], seed=settings.prefix_seed(i, step)
        )
        for i, step in probes
    ]
    more = f" (and {len(probes) - 1} more prefixes in the call)" if len(probes) > 1 else ""
    out = call(
        job.generator,
        (prompts, n),
        timeout_s=job.timeout_s,
        what=f"{where(*probes[0])}{more}: the generator",
    )
    completions = check_completions(out, probes, n)
    counts = [
        sum(
            bool(
                call(
                    job.checker,
                    (items[i], text),
                    timeout_s=None,
                    what=f"{where(i, step)}: the checker",
                )
            )
            for text in texts
        )
        for (i, step), texts in zip(probes, completions, strict=True)
    ]
    tally.rollouts += n * len(probes)
    rows: list[Event] = []
    for (i, step), successes in zip(probes, counts, strict=True):
        rows += searches[i].record(step, successes)
    return rows
