"""evaluate_prm and best_of_n against hand-computed figures, and StepScorer against the model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.evaluate import auroc, score

A = ("Add 1 + 2 + 3.", ["1 + 2 = 3.", "3 + 3 = 6.", "The answer is 6."], [1, 1, 1])
B = ("Add 2 + 2.", ["2 + 2 = 5.", "The answer is 5."], [-1, 1])
C = ("Add 4 + 4.", ["4 + 4 = 8.", "Let me restate: 8.", "The answer is 9."], [1, 0, -1])
F = ("Add 5 + 5.", ["5 + 5 = 10.", "The answer is 10."], [1, 1])
# What the fake PRM says of each solution's steps.
SAYS = {
    A[0]: [0.9, 0.8, 0.15],  # calls the last step wrong: first error 2, truly none
    B[0]: [0.2, 0.9],  # finds the error at step 0
    C[0]: [0.9, 0.4, 0.1],  # first error 1; truly 2 (the neutral step is correct)
    F[0]: [0.7, 0.6],  # no error, truly none
}


def fake_prm(rows: Sequence[dict[str, Any]]) -> list[list[float]]:
    fake_prm.calls += 1  # type: ignore[attr-defined]
    return [SAYS[row["prompt"]][: len(row["completions"])] for row in rows]


fake_prm.calls = 0  # type: ignore[attr-defined]


@pytest.fixture
def store(tmp_path: Path) -> lw.Store:
    opened = lw.Store(tmp_path / "labels.db")
    for (prompt, steps, ratings), dataset, who, source in (
        (A, "gsm", "alice", "human"),
        (B, "gsm", "alice", "human"),
        (C, "math", "bob", "auto:mc"),
        (F, "gsm", "alice", "human"),
    ):
        item = opened.add_item(prompt, steps, dataset=dataset)
        for step, value in enumerate(ratings):
            opened.record_label(item=item, step=step, value=value, annotator=who, source=source)
    opened.add_item("Unlabelled.", ["a", "b"], dataset="math")
    return opened


def test_overall_per_dataset_and_per_source_by_hand(store: lw.Store) -> None:
    report = lw.evaluate_prm(fake_prm, store)
    # Steps: A 2 of 3 right, B 2/2, C 2/3 (0.4 < 0.5 on a neutral-so-correct step), F 2/2.
    # AUROC: 8 correct steps x 2 wrong (0.2, 0.1); only 0.15 < 0.2 loses: 15/16.
    # F1: erroneous B hit, C miss -> 0.5; correct A miss, F hit -> 0.5; F1 0.5.
    assert report["overall"] == {
        "steps": 10,
        "step_accuracy": 0.8,
        "auroc": 0.9375,
        "solutions": 4,
        "f1": 0.5,
        "erroneous": 0.5,
        "correct": 0.5,
        "n_erroneous": 2,
        "n_correct": 2,
    }
    gsm, math = report["datasets"]["gsm"], report["datasets"]["math"]
    assert (gsm["step_accuracy"], gsm["erroneous"], gsm["correct"]) == (6 / 7, 1.0, 0.5)
    assert gsm["f1"] == pytest.approx(2 / 3)
    assert (math["steps"], math["auroc"], math["erroneous"], math["correct"], math["f1"]) == (
        3,
        1.0,
        0.0,
        None,
        None,
    )
    assert report["sources"]["human"] == gsm
    assert report["sources"]["auto:mc"] == math


def test_neutral_policies(store: lw.Store) -> None:
    strict = lw.evaluate_prm(fake_prm, store, neutral="false")["overall"]
    # C's neutral step is wrong now: the PRM's 0.4 is right, and its first error (1) too.
    assert (strict["step_accuracy"], strict["erroneous"], strict["correct"]) == (0.9, 1.0, 0.5)
    dropped = lw.evaluate_prm(fake_prm, store, neutral="drop")["overall"]
    assert (dropped["steps"], dropped["step_accuracy"], dropped["f1"]) == (9, 8 / 9, 0.5)
    with pytest.raises(ValueError, match="neutral is one of"):
        lw.evaluate_prm(fake_prm, store, neutral="maybe")


def test_edge_cases(store: lw.Store, tmp_path: Path) -> None:
    ids = {item["prompt"]: item["id"] for item in store.items()}
    # All steps correct: no erroneous solution, so no F1.
    clean = lw.evaluate_prm(fake_prm, store, items=[ids[A[0]], ids[F[0]]])["overall"]
    assert (clean["erroneous"], clean["correct"], clean["f1"], clean["n_erroneous"]) == (
        None,
        0.5,
        None,
        0,
    )
    # The error at the very first step, found.
    first = lw.evaluate_prm(fake_prm, store, items=[ids[B[0]]])["overall"]
    assert (first["erroneous"], first["n_erroneous"], first["auroc"]) == (1.0, 1, 1.0)
    # No labels at all: nothing to score, and the PRM is not even called.
    calls = fake_prm.calls  # type: ignore[attr-defined]
    with lw.Store(tmp_path / "empty.db") as empty:
        empty.add_item("q", ["a"])
        report = lw.evaluate_prm(fake_prm, empty)
    assert fake_prm.calls == calls  # type: ignore[attr-defined]
    assert report == {
        "overall": {
            "steps": 0,
            "step_accuracy": None,
            "auroc": None,
            "solutions": 0,
            "f1": None,
            "erroneous": None,
            "correct": None,
            "n_erroneous": 0,
            "n_correct": 0,
        },
        "datasets": {},
        "sources": {},
    }


def test_filters_and_bad_arguments(store: lw.Store) -> None:
    assert lw.evaluate_prm(fake_prm, store, source="auto")["overall"]["steps"] == 3
    assert lw.evaluate_prm(fake_prm, store, annotator="alice")["overall"]["solutions"] == 3
    assert lw.evaluate_prm(fake_prm, store, dataset="math")["overall"]["solutions"] == 1
    with pytest.raises(TypeError, match="put one id in a list"):
        lw.evaluate_prm(fake_prm, store, items="abc")
    with pytest.raises(ValueError, match="no items with the ids nope"):
        lw.evaluate_prm(fake_prm, store, items=["nope"])


def test_score_on_cut_solutions_and_auroc_ties() -> None:
    # A solution scored on 2 of its 3 steps, whose error is the cut step: out of the F1.
    cut = score([[True, True, False]], [[0.9, 0.8]])
    assert (cut["steps"], cut["solutions"], cut["f1"]) == (2, 0, None)
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert auroc([0.1], [True]) is None


def test_best_of_n_aggregates() -> None:
    said = {"a": [0.9, 0.3], "b": [0.6, 0.6], "c": [0.5, 0.95]}

    def prm(rows: Sequence[dict[str, Any]]) -> list[list[float]]:
        return [said[row["completions"][0]] for row in rows]

    solutions = [["a", "x"], ["b", "y"], ["c", "z"]]
    ranked = lw.best_of_n(prm, "q", solutions)
    assert [(r["index"], r["score"]) for r in ranked] == [(1, 0.6), (2, 0.5), (0, 0.3)]
    product = lw.best_of_n(prm, "q", solutions, aggregate="product")
    assert [r["index"] for r in product] == [2, 1, 0]
    last = lw.best_of_n(prm, "q", solutions, aggregate="last")
    assert [r["index"] for r in last] == [2, 1, 0]
    assert last[0]["step_scores"] == [0.5, 0.95]
    with pytest.raises(ValueError, match="aggregate is one of min, product, last"):
        lw.best_of_n(prm, "q", solutions, aggregate="mean")
    with pytest.raises(ValueError, match="solution 1 has no steps"):
        lw.best_of_n(prm, "q", [["a"], []])


def test_step_scorer_reads_the_models_probability_at_each_step() -> None:
    torch = pytest.importorskip("torch")
    from tests import prm_support

    tok = prm_support.tokenizer()
    model = prm_support.token_classifier(tok)
    scorer = lw.StepScorer(model, tok, batch_size=2)
    rows = [
        {"prompt": "check 1", "completions": ["two plus three", "is five wrong"]},
        {"prompt": "check 2", "completions": ["so the answer is seven"]},
        {"prompt": "check 3", "completions": ["x", "y", "the answer"]},
    ]
    model.train()
    together = scorer(rows)
    assert model.training  # left as it was found
    assert [len(p) for p in together] == [2, 1, 3]
    model.eval()  # no dropout: what the scorer computed
    for row, probs in zip(rows, together, strict=True):
        [encoded] = scorer.encode([row])
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([encoded["input_ids"]])).logits[0]
        at = [i for i, label in enumerate(encoded["labels"]) if label != -100]
        assert probs == pytest.approx(logits.softmax(-1)[at, 1].tolist(), abs=1e-5)
    cut = lw.StepScorer(model, tok, max_length=6)(rows[2:])
    assert len(cut[0]) < 3


def test_step_scorer_reads_a_one_logit_head_and_refuses_other_widths() -> None:
    torch = pytest.importorskip("torch")
    from tests import prm_support

    tok = prm_support.tokenizer()
    rows = [{"prompt": "check 1", "completions": ["two plus three", "is five"]}]

    class Head(torch.nn.Module):
        """Logits of ``width`` classes, each the input id / 100: no parameters, a tensor out."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return (input_ids.float() / 100).unsqueeze(-1).repeat(1, 1, self.width)

    scorer = lw.StepScorer(Head(1), tok)
    [encoded] = scorer.encode(rows)
    at = [i for i, label in enumerate(encoded["labels"]) if label != -100]
    expected = torch.tensor([encoded["input_ids"][i] / 100 for i in at]).sigmoid().tolist()
    assert scorer(rows) == [pytest.approx(expected)]
    with pytest.raises(ValueError, match="3 classes per token"):
        lw.StepScorer(Head(3), tok)(rows)
