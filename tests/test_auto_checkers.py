"""The default checker: the final answer, extracted and compared by math-verify."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import labwidget as lw
from labwidget.auto import ground_truth, math_answer

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"


@pytest.mark.parametrize(
    ("completion", "right"),
    [
        ("Then $2 + 12 = 14$.\n\n# Answer\n\n14", True),  # PRM800K's own ending
        ("So the total is $\\boxed{14}$.", True),
        ("The answer is: 14.", True),
        ("The final answer is $\\frac{28}{2}$", True),  # equal, written otherwise
        ("The answer is 15", False),
        ("2 + 12 = 14", False),  # no final answer given: not a success
        ("", False),
    ],
)
def test_a_completion_is_right_when_its_final_answer_equals_the_ground_truth(
    tmp_path: Path, completion: str, right: bool
) -> None:
    store = lw.Store(tmp_path / "labels.db")
    lw.import_prm800k(store, SAMPLE)
    item = next(i for i in store.items() if i["prompt"] == "What is $2 + 3 \\cdot 4$?")
    assert ground_truth(item) == "14"
    assert math_answer(item, completion) is right


def test_latex_answers_compare_by_value() -> None:
    item = {"id": "i", "meta": {"ground_truth_answer": "\\frac{\\sqrt{2}}{2}"}}
    assert math_answer(item, "The answer is $\\frac{1}{\\sqrt{2}}$")
    assert not math_answer(item, "The answer is $\\sqrt{2}$")


def test_the_checker_works_off_the_main_thread_too() -> None:
    # math-verify's own timeouts need the main thread; elsewhere it runs without them.
    item = {"id": "i", "meta": {"ground_truth_answer": "6"}}
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(math_answer(item, "\\boxed{6}")))
    worker.start()
    worker.join()
    assert results == [True]
