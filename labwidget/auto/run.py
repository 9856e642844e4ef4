"""``autolabel``: machine step labels for many items, resumable, visible, on one machine or many."""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from labwidget.auto._calls import AutolabelError
from labwidget.auto._chunk import Job, Tally, label_chunk
from labwidget.auto._settings import DEFAULT_BAND, Event, Settings
from labwidget.auto.checkers import Checker, math_answer
from labwidget.auto.judge import Judge
from labwidget.auto.prefix import Generator
from labwidget.store import Store

# Claims made for a machine method: every item once per method, however many people labeled it.
ANYONE = 2**31 - 1


@dataclass
class Summary:
    """What a run did: items labeled now, found already labeled, failed; rollouts and time."""

    done: int
    skipped: int
    failed: int
    rollouts: int
    seconds: float

    def __str__(self) -> str:
        rate = self.rollouts / self.seconds if self.seconds else 0.0
        return (
            f"autolabel: {self.done} items done, {self.skipped} skipped, {self.failed} failed; "
            f"{self.rollouts} rollouts in {self.seconds:.1f} s ({rate:.1f} rollouts/s)"
        )


def autolabel(
    store: Store,
    items: Sequence[str] | None = None,
    *,
    generator: Generator,
    checker: Checker = math_answer,
    method: str = "mc",
    n: int = 8,
    estimate: str = "hard",
    judge: Judge | None = None,
    seed: int = 0,
    band: tuple[float, float] = DEFAULT_BAND,
    timeout_s: float | None = 600.0,
    dataset: str | None = None,
    claim: bool = False,
    chunk: int = 16,
    batch: int = 64,
    ray: bool = False,
    name: str | None = None,
    progress: bool | None = None,
) -> Summary:
    """Label every step of many items by machine: rollouts, a judge, and their consensus.

    ``method="mc"`` (Math-Shepherd) samples ``n`` completions from every step's prefix and
    labels the step by how many reach the right answer (``estimate="hard"``: +1 if any, soft:
    +1 if at least half); ``method="bisect"`` (OmegaPRM) binary-searches the first prefix
    from which none does, for about n·log2(K) rollouts instead of n·K: steps before it +1, it
    −1, the rest unlabeled. With a ``judge``, its verdicts are stored too, and the steps where
    it agrees with the rollouts (outside the uncertain ``band`` of success rates) get an
    ``auto:consensus`` label; the others wait in ``lw.review_queue`` for a person.

    Each method labels as its own annotator (``auto:mc``, ``auto:bisect``, ``auto:judge``,
    ``auto:consensus``), with the rollouts in the meta (``n``, ``successes``, ``rate``,
    ``generator``). Event ids come from (item, step, method, n, estimate, seed): a run
    stopped anywhere and started again repeats no finished prefix and writes nothing twice.
    Another generator with the same settings counts as done: give it another ``seed``.

    Args:
        store: the store whose items to label.
        items: item ids; default every item (of ``dataset``).
        generator: ``fn(prompts, n) -> n completions per prompt`` (see ``lw.generators``).
        checker: ``fn(item, completion) -> bool``; default compares the final answer with the
            item's ground truth through math-verify.
        method: ``"mc"`` or ``"bisect"``.
        n: rollouts per prefix.
        estimate: ``"hard"`` or ``"soft"`` (mc only).
        judge: ``fn(prompt, steps) -> per-step verdicts`` (see ``labwidget.auto.judge``).
        seed: part of every event id, and of each prefix's seed (``Prefix.seed``).
        band: success rates r with low < r <= high send a step to review.
        timeout_s: longest wait for one generator or judge call (None: no limit).
        dataset: with ``items=None``, only this dataset's items.
        claim: take items through ``store.claim`` a chunk at a time, so several processes
            (torchrun ranks, a Slurm array) can share one PostgreSQL store, each item once.
        chunk: items labeled together (one Ray task each); their prefixes share calls.
        batch: most prefixes in one generator call.
        ray: fan the chunks out as Ray tasks (``ray.init()`` first to join a cluster); their
            events come back here and are written through the store's batch path.
        name: the generator's name in the meta (default: its function name or ``str``).
        progress: show a progress bar (None: when stderr is a terminal or a notebook).

    Returns:
        The run's Summary, also printed as one line when the bar is shown.

    Raises:
        AutolabelError: a generator, checker or judge failed or answered in the wrong shape;
            the message names the item and step. What finished before is stored.
    """
    if isinstance(items, str):
        raise TypeError("items is a list of item ids, not one id: pass [item]")
    if claim and items is not None:
        raise ValueError("pass items or claim=True, not both: claims choose the items")
    if chunk < 1 or batch < 1:
        raise ValueError("chunk and batch must be at least 1")
    settings = Settings(
        method=method,
        n=n,
        estimate=estimate,
        seed=seed,
        band=band,
        generator=name or _name(generator),
    )
    job = Job(settings, generator, checker, judge, timeout_s, batch)
    if claim:
        chunks = _claimed(store, settings.source, chunk, dataset)
        total = None
    else:
        ids = list(items) if items is not None else [i["id"] for i in store.items(dataset=dataset)]
        chunks = iter([ids[k : k + chunk] for k in range(0, len(ids), chunk)])
        total = len(ids)
    tally = Tally()
    started = time.perf_counter()
    disable = None if progress is None else not progress
    with tqdm(total=total, unit="item", desc=f"autolabel {method}", disable=disable) as bar:
        shown = not bar.disable  # close() disables a bar

        def advanced(finished: int) -> None:
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{tally.rollouts / elapsed:.1f} rollouts/s", refresh=False)
            bar.update(finished)  # redraws at most every 0.1 s, after a call too (0 items)

        def summary() -> Summary:
            return Summary(
                tally.done,
                tally.skipped,
                tally.failed,
                tally.rollouts,
                time.perf_counter() - started,
            )

        try:
            if ray:
                from labwidget.auto._ray import label_on_ray

                label_on_ray(store, chunks, job, tally, _load, _writer(store), advanced)
            else:
                for part in chunks:
                    loaded, stored = _load(store, part)
                    before = tally.done + tally.skipped
                    try:
                        label_chunk(job, loaded, stored, _writer(store), tally, advanced)
                    except AutolabelError:
                        tally.failed += len(part) - (tally.done + tally.skipped - before)
                        raise
        except AutolabelError as exc:
            exc.summary = summary()
            if shown:
                bar.close()
                print(exc.summary, file=sys.stderr)
            raise
    result = summary()
    if shown:
        print(result, file=sys.stderr)
    return result


def _name(generator: Callable[..., Any]) -> str:
    """A generator's name for the record: a function's qualified name, else its ``str``."""
    if isinstance(generator, types.FunctionType):
        return generator.__qualname__
    return str(generator)


def _claimed(store: Store, source: str, size: int, dataset: str | None) -> Iterator[list[str]]:
    """Items claimed ``size`` at a time under the method's own name, until none are left."""
    while ids := store.claim(size, annotator=source, overlap=ANYONE, dataset=dataset):
        yield ids


def _load(
    store: Store, ids: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Event]]]:
    """The items, and the events already stored for each (by event id)."""
    loaded: list[dict[str, Any]] = []
    stored: dict[str, dict[str, Event]] = {}
    for item_id in ids:
        try:
            loaded.append(store.item(item_id))
        except KeyError:
            raise ValueError(f"there is no item {item_id!r} in {store!r}") from None
        stored[item_id] = {e["event_id"]: e for e in store.events(item=item_id)}
    return loaded, stored


def _writer(store: Store) -> Callable[[list[Event]], None]:
    """Events out through the store's batch path: one transaction per call's worth."""

    def write(rows: list[Event]) -> None:
        with store.batch() as batch:
            for row in rows:
                batch.record(
                    row["kind"],
                    item=row["item"],
                    step=row["step"],
                    value=row["value"],
                    text=row["text"],
                    confidence=row["confidence"],
                    source=row["source"],
                    annotator=row["annotator"],
                    meta=row["meta"],
                    event_id=row["event_id"],
                )

    return write
