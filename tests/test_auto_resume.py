"""A run killed mid-way and started again: no finished prefix rolled out twice, no event twice,
and the same labels as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import labwidget as lw
from tests.auto_support import Policy, add_solutions, logged_prompts, solution

ROOT = Path(__file__).resolve().parents[1]
_RNG = random.Random(7)
SOLUTIONS = [solution(_RNG, terms, 0.25) for terms in (5, 6, 4, 7, 5, 6)]

# Runs autolabel in a process that kills itself (SIGKILL: no cleanup, no flush) in the middle
# of its third generator call, after logging that call's prompts.
KILLED_RUN = """
import os, signal, sys
import labwidget as lw
from tests.auto_support import Policy

class DiesOnThirdCall(Policy):
    calls = 0
    def __call__(self, prompts, n):
        DiesOnThirdCall.calls += 1
        out = super().__call__(prompts, n)
        if DiesOnThirdCall.calls == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return out

store = lw.Store(sys.argv[1])
lw.autolabel(store, generator=DiesOnThirdCall(0.8, 0.1, log=sys.argv[2]), method=sys.argv[3],
             n=4, seed=5, chunk=3, batch=4, name="policy", progress=False)
"""


def labels_of(store: lw.Store) -> set[tuple[str, int | None, str, int | None, str]]:
    return {
        (e["item"], e["step"], e["kind"], e["value"], repr(sorted((e["meta"] or {}).items())))
        for e in store.events()
    }


@pytest.mark.parametrize("method", ["mc", "bisect"])
def test_a_killed_run_resumes_without_repeating_finished_prefixes(
    tmp_path: Path, method: str
) -> None:
    path = tmp_path / "labels.db"
    with lw.Store(path) as store:
        add_solutions(store, SOLUTIONS)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(path), str(first_log), method],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr
    calls = first_log.read_text(encoding="utf-8").splitlines()
    assert len(calls) == 3
    in_flight = set(json.loads(calls[-1]))
    finished = set(logged_prompts(first_log)) - in_flight

    with lw.Store(path) as store:
        written = len(store.events())
        assert written > 0
        summary = lw.autolabel(
            store, generator=Policy(0.8, 0.1, log=str(second_log)), method=method, n=4,
            seed=5, chunk=3, batch=4, name="policy", progress=False,
        )  # fmt: skip
        resumed = logged_prompts(second_log)
        assert finished.isdisjoint(resumed)
        assert in_flight <= set(resumed)
        assert len(resumed) == len(set(resumed))
        events = store.events()
        assert len({e["event_id"] for e in events}) == len(events)
        assert summary.done + summary.skipped == len(SOLUTIONS)

        clean_path = tmp_path / "clean.db"
        with lw.Store(clean_path) as clean:
            add_solutions(clean, SOLUTIONS)
            lw.autolabel(
                clean, generator=Policy(0.8, 0.1), method=method, n=4, seed=5, chunk=3,
                batch=4, name="policy", progress=False,
            )  # fmt: skip
            assert labels_of(store) == labels_of(clean)
            assert len(events) == len(clean.events())
