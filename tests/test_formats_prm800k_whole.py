"""PRM800K phase 2: the item holds the whole pre-generated solution; the labels, its prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.formats import export, export_prm800k, import_prm800k, stepwise

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
PROBLEM = "What is $6 \\cdot 7 - 2$?"
PRE = [
    "First I multiply: $6 \\cdot 7 = 42$.",
    "Then I subtract: $42 - 2 = 41$.",
    "Let me double-check the subtraction.",
    "Yes, the answer is $41$.",
    "# Answer\n\n41",
]
FIX = "Then I subtract: $42 - 2 = 40$."


def step(*completions: tuple[str, int | None], chosen: int | None = 0) -> dict[str, Any]:
    return {
        "completions": [{"text": t, "rating": r, "flagged": None} for t, r in completions],
        "human_completion": None,
        "chosen_completion": chosen,
    }


def phase2(
    steps: list[dict[str, Any]],
    *,
    pre: list[str] | None = PRE,
    finish: str = "found_error",
    labeler: str = "labeler-1",
    timestamp: str = "2023-01-22T04:34:27.052924",
) -> dict[str, Any]:
    """A phase-2 line in PRM800K's own key order."""
    question: dict[str, Any] = {"problem": PROBLEM, "ground_truth_answer": "40"}
    if pre is not None:
        question |= {"pre_generated_steps": pre, "pre_generated_answer": "41"}
        question["pre_generated_verifier_score"] = 0.0107
    return {
        "labeler": labeler,
        "timestamp": timestamp,
        "generation": 9,
        "is_quality_control_question": False,
        "is_initial_screening_question": False,
        "question": question,
        "label": {"steps": steps, "total_time": 278270, "finish_reason": finish},
    }


# Two steps rated, the third wrong, with a corrected alternative rated after it.
FOUND_ERROR = phase2(
    [step((PRE[0], 1)), step((PRE[1], 0)), step((PRE[2], -1), (FIX, 1), chosen=None)]
)


def write(tmp_path: Path, *lines: dict[str, Any]) -> Path:
    path = tmp_path / "phase2.jsonl"
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def row(*steps: tuple[str, bool]) -> dict[str, Any]:
    return {
        "prompt": PROBLEM,
        "completions": [s for s, _ in steps],
        "labels": [v for _, v in steps],
    }


def test_the_item_is_the_whole_solution_and_the_labels_its_prefix(
    store: lw.Store, tmp_path: Path
) -> None:
    source = write(tmp_path, FOUND_ERROR)
    assert import_prm800k(store, source) == {"lines": 1, "items": 1, "events": 7}
    (item,) = store.items()
    assert item["steps"] == PRE
    assert item["alternatives"] == [[PRE[0]], [PRE[1]], [PRE[2], FIX], [PRE[3]], [PRE[4]]]
    assert [(r["step"], r["alt"], r["value"]) for r in store.labels(kind="rating")] == [
        (0, 0, 1),
        (1, 0, 0),
        (2, 0, -1),
        (2, 1, 1),
    ]
    (finish,) = store.events(kind="finish")
    assert finish["meta"] == {"timestamp": FOUND_ERROR["timestamp"], "labeled_steps": 3}
    out = tmp_path / "again.jsonl"
    assert export(store, out, format="prm800k") == 1
    assert out.read_bytes() == source.read_bytes()


def test_rows_and_examples_cover_only_the_labelled_steps(store: lw.Store) -> None:
    import_prm800k(store, [json.dumps(FOUND_ERROR)])
    expected = [
        row((PRE[0], True), (PRE[1], False), (PRE[2], False)),
        row((PRE[0], True), (PRE[1], False), (FIX, True)),
        row((PRE[0], True), (PRE[1], False)),
    ]
    assert list(stepwise(store)) == expected
    pytest.importorskip("torch")
    from labwidget.data import StepDataset
    from tests.test_data import tiny_tokenizer

    assert list(StepDataset(store, tiny_tokenizer(bos=False)).rows()) == expected


def test_steps_labelled_later_extend_the_prefix_and_the_rest_stays_out(store: lw.Store) -> None:
    gave_up = phase2([step((PRE[0], 1)), step((PRE[1], 1))], finish="give_up")
    import_prm800k(store, [json.dumps(gave_up)])
    assert list(stepwise(store)) == [row((PRE[0], True), (PRE[1], True))]
    assert list(export_prm800k(store)) == [gave_up]
    (item,) = store.items()
    store.record_label(item=item["id"], step=2, value=1, annotator="labeler-1")
    assert list(stepwise(store)) == [
        row((PRE[0], True), (PRE[1], True), (PRE[2], True)),
        row((PRE[0], True), (PRE[1], True)),
    ]
    (line,) = export_prm800k(store)
    assert [s["completions"] for s in line["label"]["steps"]] == [
        [{"text": PRE[0], "rating": 1, "flagged": None}],
        [{"text": PRE[1], "rating": 1, "flagged": None}],
        [{"text": PRE[2], "rating": 1, "flagged": None}],
    ]


def test_another_annotator_labels_the_whole_solution(store: lw.Store) -> None:
    import_prm800k(store, [json.dumps(FOUND_ERROR)])
    (item,) = store.items()
    for position, value in enumerate([1, 0, 1, 1, 1]):
        store.record_label(item=item["id"], step=position, value=value, annotator="second")
    assert list(stepwise(store, annotator="second")) == [
        row((PRE[0], True), (PRE[1], False), (PRE[2], True), (PRE[3], True), (PRE[4], True))
    ]
    labelled, second = export_prm800k(store)
    assert labelled == FOUND_ERROR
    assert [[c["rating"] for c in s["completions"]] for s in second["label"]["steps"]] == [
        [1],
        [0],
        [1, None],
        [1],
        [1],
    ]


def test_two_labelers_who_stop_at_different_steps_share_one_item(
    store: lw.Store, tmp_path: Path
) -> None:
    first = phase2([step((PRE[0], 1)), step((PRE[1], -1), chosen=None)])
    whole = phase2(
        [step((text, 1)) for text in PRE],
        finish="solution",
        labeler="labeler-2",
        timestamp="2023-01-23T10:00:00",
    )
    source = write(tmp_path, first, whole)
    assert import_prm800k(store, source)["items"] == 1
    assert list(export_prm800k(store)) == [first, whole]
    assert list(stepwise(store, annotator="labeler-1")) == [
        row((PRE[0], True), (PRE[1], False)),
        row((PRE[0], True)),
    ]
    assert list(stepwise(store, annotator="labeler-2")) == [row(*[(text, True) for text in PRE])]


# Lines whose labelled steps leave the pre-generated solution: the rest of it would continue a
# path the labeler did not take, so the item is the labelled steps alone.
ANOTHER = "Instead, let me subtract first."
APART = {
    "an alternative chosen mid-way": [
        step((PRE[0], 1)),
        step((PRE[1], -1), (ANOTHER, 1), chosen=1),
        step(("So $6 \\cdot 5 = 30$.", -1), chosen=None),
    ],
    "a first completion that is not the pre-generated step": [
        step((PRE[0], 1)),
        step((FIX, 1), (PRE[1], -1), chosen=0),
    ],
    "a human step mid-way": [
        step((PRE[0], 1)),
        {
            "completions": [],
            "human_completion": {"text": FIX, "rating": None, "source": "human"},
            "chosen_completion": None,
        },
        step((PRE[2], 1)),
    ],
    "more steps labelled than were pre-generated": [
        *[step((text, 1)) for text in PRE],
        step(("One more step.", 0), chosen=None),
    ],
}


@pytest.mark.parametrize("case", list(APART))
def test_labelled_steps_that_leave_the_solution_are_the_whole_item(
    store: lw.Store, tmp_path: Path, case: str
) -> None:
    line = phase2(APART[case], finish="give_up")
    source = write(tmp_path, line)
    import_prm800k(store, source)
    (item,) = store.items()
    assert item["alternatives"] == [
        [c["text"] for c in s["completions"]] or [s["human_completion"]["text"]]
        for s in line["label"]["steps"]
    ]
    assert "labeled_steps" not in store.events(kind="finish")[0]["meta"]
    out = tmp_path / "again.jsonl"
    export(store, out, format="prm800k")
    assert out.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("pre", [None, []])
def test_a_line_without_a_pre_generated_solution_is_its_labelled_steps(
    store: lw.Store, pre: list[str] | None
) -> None:
    line = phase2([step((PRE[0], 1))], pre=pre)
    import_prm800k(store, [json.dumps(line)])
    (item,) = store.items()
    assert item["alternatives"] == [[PRE[0]]]
    assert list(export_prm800k(store)) == [line]


def test_the_samples_phase2_line_holds_its_whole_solution(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE)
    line = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[1])
    (item,) = [i for i in store.items() if i["prompt"] == line["question"]["problem"]]
    assert item["steps"] == line["question"]["pre_generated_steps"]
    assert len(line["label"]["steps"]) == 3
