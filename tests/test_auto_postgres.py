"""Several processes labeling one PostgreSQL store at once through claims: each item once."""

from __future__ import annotations

import multiprocessing
import random
import traceback
from pathlib import Path
from typing import Any

import labwidget as lw
from labwidget import cli
from tests.auto_support import Judge, Policy, add_solutions, logged_prompts, solution

WORKERS = 2
_RNG = random.Random(5)
SOLUTIONS = [solution(_RNG, 3 + k % 4, 0.3) for k in range(10)]


class SlowPolicy(Policy):
    """Takes a moment per call, so the workers' claims interleave."""

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        import time

        time.sleep(0.05)
        return super().__call__(prompts, n)


def label_share(url: str, log: str, start: Any) -> str | None:
    """One worker process (a torchrun rank, a Slurm array task): claim, label, repeat."""
    try:
        with lw.Store(url) as store:
            start.wait()
            lw.autolabel(
                store, generator=SlowPolicy(0.8, 0.1, log=log), judge=Judge(), n=4, claim=True,
                chunk=1, name="policy", progress=False,
            )  # fmt: skip
    except BaseException:
        return traceback.format_exc()
    return None


def test_processes_sharing_a_postgres_store_label_each_item_once(
    pg_url: str, tmp_path: Path
) -> None:
    assert cli.main(["db", "upgrade", pg_url]) == 0
    with lw.Store(pg_url) as store:
        ids = add_solutions(store, SOLUTIONS)
    logs = [tmp_path / f"worker{w}.log" for w in range(WORKERS)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(WORKERS)
        with context.Pool(WORKERS) as pool:
            failures = pool.starmap(label_share, [(pg_url, str(log), start) for log in logs])
    assert [f for f in failures if f] == []
    questions = [{p.split("\n", 1)[0] for p in logged_prompts(log)} for log in logs]
    assert all(questions), "every worker labeled something"
    assert questions[0].isdisjoint(questions[1])
    with lw.Store(pg_url) as store:
        events = store.events()
        assert len({e["event_id"] for e in events}) == len(events)
        assert {e["item"] for e in store.labels(annotator="auto:mc")} == set(ids)
        assert {e["item"] for e in store.labels(annotator="auto:judge")} == set(ids)
        # Each prefix was rolled out by one worker, once.
        prompts = [p for log in logs for p in logged_prompts(log)]
        assert len(prompts) == len(set(prompts)) == sum(len(s.steps) - 1 for s in SOLUTIONS)
        # A later run finds everything done, with or without claims.
        again = {"generator": Policy(), "n": 4, "progress": False}
        assert lw.autolabel(store, claim=True, **again).done == 0
        assert lw.autolabel(store, **again).skipped == len(ids)
