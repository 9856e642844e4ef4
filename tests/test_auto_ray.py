"""``autolabel(ray=True)`` on a local Ray (two CPUs): the same labels as on one machine, written
by the driver through the store's batch path; a task's failure is reported, its work kept."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.auto import AutolabelError
from tests.auto_support import Judge, Policy, add_solutions, solution

ROOT = Path(__file__).resolve().parents[1]
_RNG = random.Random(11)
SOLUTIONS = [solution(_RNG, terms, 0.3) for terms in (4, 5, 6, 4, 5, 6, 3)]


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    """One local Ray for the module: starting it takes seconds."""
    ray = pytest.importorskip("ray")
    options = {
        "num_cpus": 2,
        "include_dashboard": False,
        "log_to_driver": False,
        "runtime_env": {"env_vars": {"PYTHONPATH": str(ROOT)}},
    }
    try:
        ray.init(**options)
    except Exception as error:  # Ray gives its raylet a fixed 30 s: a loaded box can miss it.
        if "timed out during startup" not in str(error):
            raise
        ray.shutdown()
        ray.init(**options)
    yield ray
    ray.shutdown()


def events_of(store: lw.Store) -> set[tuple[Any, ...]]:
    return {
        (e["event_id"], e["item"], e["step"], e["kind"], e["value"], e["annotator"])
        for e in store.events()
    }


def test_ray_tasks_label_what_one_process_would(ray: Any, tmp_path: Path) -> None:
    local, fanned = lw.Store(tmp_path / "local.db"), lw.Store(tmp_path / "ray.db")
    for store in (local, fanned):
        add_solutions(store, SOLUTIONS)
    options: dict[str, Any] = {
        "generator": Policy(0.8, 0.1),
        "judge": Judge(accuracy=0.8),
        "n": 4,
        "chunk": 2,
        "progress": False,
    }
    lw.autolabel(local, **options)
    summary = lw.autolabel(fanned, ray=True, **options)
    assert (summary.done, summary.skipped, summary.failed) == (7, 0, 0)
    assert summary.rollouts == 4 * sum(len(s.steps) - 1 for s in SOLUTIONS)
    assert events_of(fanned) == events_of(local)
    again = lw.autolabel(fanned, ray=True, **options)
    assert (again.done, again.skipped, again.rollouts) == (0, 7, 0)
    assert len(fanned.events()) == len(local.events())


class BreaksOn(Policy):
    """A policy that raises for the prefixes of one prompt."""

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        if any(p.startswith(SOLUTIONS[4].prompt + "\n") for p in prompts):
            raise RuntimeError("GPU fell off the bus")
        return super().__call__(prompts, n)


def test_a_failing_ray_task_names_the_item_and_the_rest_is_kept(ray: Any, tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, SOLUTIONS)
    with pytest.raises(AutolabelError) as raised:
        lw.autolabel(store, generator=BreaksOn(), n=4, chunk=1, ray=True, progress=False)
    assert str(raised.value) == (
        f"item {ids[4]} step 0 (and 3 more prefixes in the call): the generator: RuntimeError: "
        "GPU fell off the bus"
    )
    # The broken item's direct last-step label came back with the error; the others that
    # finished before the failure was seen are stored. A fixed run finishes the rest.
    assert any(e["item"] == ids[4] for e in store.events())
    resumed = lw.autolabel(store, generator=Policy(), n=4, chunk=1, ray=True, progress=False)
    assert resumed.failed == 0
    assert {e["item"] for e in store.labels(annotator="auto:mc")} == set(ids)
