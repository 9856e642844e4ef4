"""Ray fan-out: each chunk of items is a Ray task; its events come back and are written here.

Ray schedules the tasks over whatever cluster ``ray.init`` joined (a local one by default), so
many GPUs or machines run generators at once, while the store is only ever written by this
process, through its batch path. A task that fails returns what it finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from labwidget.auto._calls import AutolabelError
from labwidget.auto._chunk import Job, Tally, label_chunk
from labwidget.auto._settings import Event
from labwidget.store import Store

Loaded = tuple[list[dict[str, Any]], dict[str, dict[str, Event]]]


def label_on_ray(
    store: Store,
    chunks: Iterable[list[str]],
    job: Job,
    tally: Tally,
    load: Callable[[Store, Sequence[str]], Loaded],
    write: Callable[[list[Event]], None],
    advanced: Callable[[int], None],
) -> None:
    """Run ``label_chunk`` for every chunk as a Ray task, keeping the cluster busy."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("ray=True needs Ray: pip install 'labwidget[ray]'") from exc
    if not ray.is_initialized():
        ray.init()
    task = ray.remote(_task)
    job_ref = ray.put(job)
    # Twice the CPUs in flight: a task that finishes finds the next one already queued.
    cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
    limit = 2 * max(1, int(cpus))
    in_flight: dict[Any, int] = {}

    def collect() -> None:
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        size = in_flight.pop(ready[0])
        try:
            rows, part, error = ray.get(ready[0])
        except ray.exceptions.RayError as exc:
            tally.failed += size
            raise AutolabelError(f"a Ray task failed: {exc}") from exc
        if rows:
            write(rows)
        tally.add(part)
        advanced(part.done + part.skipped)
        if error is not None:
            tally.failed += size - part.done - part.skipped
            raise AutolabelError(error)

    try:
        for ids in chunks:
            items, stored = load(store, ids)
            while len(in_flight) >= limit:
                collect()
            in_flight[task.remote(job_ref, items, stored)] = len(ids)
        while in_flight:
            collect()
    finally:
        for ref in in_flight:
            ray.cancel(ref)


def _task(
    job: Job, items: list[dict[str, Any]], stored: dict[str, dict[str, Event]]
) -> tuple[list[Event], Tally, str | None]:
    """One chunk in a Ray worker: its events, its tally, and the error that stopped it."""
    rows: list[Event] = []
    tally = Tally()
    try:
        label_chunk(job, items, stored, rows.extend, tally)
    except AutolabelError as exc:
        return rows, tally, str(exc)
    return rows, tally, None
