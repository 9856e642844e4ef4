"""Bad generators, checkers and judges: a clear error naming the item and step, nothing
half-written for the prefix, and a run that resumes once the cause is fixed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.auto import AutolabelError
from tests.auto_support import Judge, Policy, Solution, add_solutions

# A sum wrong from its second step: 4 steps, rollouts from steps 0, 1 and 2.
WRONG = Solution(
    "sum 1 + 2 + 3 + 4",
    ["1 + 2 = 3", "3 + 3 = 7", "7 + 4 = 11", "The answer is 11"],
    10,
    [1, -1, -1, -1],
)


@pytest.fixture
def store(tmp_path: Path) -> lw.Store:
    return lw.Store(tmp_path / "labels.db")


def fails_on_call(number: int, answer: Callable[[list[str], int], Any]) -> Policy:
    """A policy whose ``number``-th call (1-based) answers with ``answer`` instead."""

    class Failing(Policy):
        calls = 0

        def __call__(self, prompts: list[str], n: int) -> Any:
            Failing.calls += 1
            if Failing.calls == number:
                return answer(prompts, n)
            return super().__call__(prompts, n)

    return Failing()


def steps_labeled(store: lw.Store) -> list[int]:
    return sorted(e["step"] for e in store.labels(annotator="auto:mc"))


def raise_oom(prompts: list[str], n: int) -> Any:
    raise RuntimeError("CUDA out of memory")


CASES = {
    "too few lists": (lambda p, n: [["The answer is 10"] * n], "returned 1 lists for 3 prompts"),
    "not a list": (lambda p, n: None, "the generator returned NoneType, not one list of 4"),
    "None for a prefix": (
        lambda p, n: [["x"] * n, None, ["x"] * n],
        "step 1: the generator returned NoneType instead of a list of 4 strings",
    ),
    "too few completions": (
        lambda p, n: [["x"] * n, ["x"] * n, ["x"] * (n - 1)],
        "step 2: the generator returned 3 completions, not 4",
    ),
    "a completion not a string": (
        lambda p, n: [["x"] * n, ["x", 3, "x", "x"], ["x"] * n],
        "step 1: a completion is int, not a string",
    ),
    "raises": (raise_oom, "step 0 (and 2 more prefixes in the call): the generator: "),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_generator_answer_names_the_item_and_step_and_writes_nothing(
    store: lw.Store, case: str
) -> None:
    answer, message = CASES[case]
    (item,) = add_solutions(store, [WRONG])
    with pytest.raises(AutolabelError, match=f"item {item} ") as raised:
        lw.autolabel(store, generator=fails_on_call(1, answer), n=4, progress=False)
    assert message in str(raised.value)
    if case == "raises":
        assert str(raised.value).endswith("RuntimeError: CUDA out of memory")
    # Only the last step, which needs no rollouts, was labeled before the call failed.
    assert steps_labeled(store) == [3]
    assert raised.value.summary.failed == 1  # type: ignore[attr-defined]
    # Fixed, the same call finishes the rest.
    summary = lw.autolabel(store, generator=Policy(), n=4, progress=False)
    assert (summary.done, summary.rollouts) == (1, 12)
    assert [e["value"] for e in sorted(store.labels(), key=lambda e: e["step"])] == WRONG.truth


def test_a_failure_keeps_what_the_calls_before_it_finished(store: lw.Store) -> None:
    (item,) = add_solutions(store, [WRONG])
    with pytest.raises(AutolabelError, match=f"item {item} step 2: the generator: "):
        lw.autolabel(store, generator=fails_on_call(3, raise_oom), n=4, batch=1, progress=False)
    assert steps_labeled(store) == [0, 1, 3]
    resumed = lw.autolabel(store, generator=Policy(), n=4, batch=1, progress=False)
    assert resumed.rollouts == 4  # step 2 only
    assert len(store.events()) == 4


def test_a_hanging_generator_times_out_naming_the_prefix(store: lw.Store) -> None:
    (item,) = add_solutions(store, [WRONG])
    release = threading.Event()

    def hangs(prompts: list[str], n: int) -> list[list[str]]:
        release.wait(30)
        return [["The answer is 10"] * n for _ in prompts]

    try:
        with pytest.raises(AutolabelError) as raised:
            lw.autolabel(store, generator=hangs, n=4, timeout_s=0.2, progress=False)
    finally:
        release.set()
    assert str(raised.value) == (
        f"item {item} step 0 (and 2 more prefixes in the call): the generator: no answer within "
        "0.2 s; raise timeout_s if it is just slow"
    )
    assert steps_labeled(store) == [3]


def test_a_checker_that_raises_is_named_with_the_step(store: lw.Store) -> None:
    (item,) = add_solutions(store, [WRONG])

    def checker(item: dict[str, Any], completion: str) -> bool:
        raise KeyError("answer")

    with pytest.raises(AutolabelError, match=f"item {item} step 3: the checker: KeyError"):
        lw.autolabel(store, generator=Policy(), checker=checker, n=4, progress=False)
    assert store.events() == []


def test_an_item_without_a_ground_truth_says_where_to_put_it(store: lw.Store) -> None:
    item = store.add_item("sum 1 + 2", ["1 + 2 = 3", "The answer is 3"])
    with pytest.raises(AutolabelError) as raised:
        lw.autolabel(store, generator=Policy(), n=4, progress=False)
    assert str(raised.value).startswith(f"item {item} step 1: the checker: ValueError: item")
    assert "put the answer in its meta['ground_truth_answer']" in str(raised.value)


@pytest.mark.parametrize(
    ("verdicts", "message"),
    [
        ([{"value": 1}], "the judge returned 1 verdicts for 4 steps"),
        ("correct", "the judge returned str, not one verdict"),
        ([{"value": 2}, None, None, None], "step 0: a judge's verdict is"),
        ([None, {"value": 1, "confidence": 3}, None, None], "step 1: the judge's confidence"),
    ],
)
def test_a_bad_judge_answer_is_refused_and_the_run_resumes(
    store: lw.Store, verdicts: Any, message: str
) -> None:
    (item,) = add_solutions(store, [WRONG])
    with pytest.raises(AutolabelError, match=f"item {item}") as raised:
        lw.autolabel(
            store, generator=Policy(), n=4, judge=lambda prompt, steps: verdicts, progress=False
        )
    assert message in str(raised.value)
    assert store.labels(annotator="auto:judge") == []
    # The rollout labels were finished before the judge was asked; only the judge remains.
    resumed = lw.autolabel(store, generator=Policy(), n=4, judge=Judge(), progress=False)
    assert (resumed.done, resumed.rollouts) == (1, 0)
    assert len(store.labels(annotator="auto:judge")) == 4
