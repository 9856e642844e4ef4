"""Adjudicated labels reach datasets and exports; blind labels tell rubber-stamping apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

import labwidget as lw
from labwidget import active
from labwidget.data import StepDataset


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<s>": 1, "q": 2, "a": 3, "b": 4, "c": 5, "\n": 6}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", "removed"), pre_tokenizers.Split("\n", "isolated")]
    )
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>")


@pytest.fixture
def disputed(store: lw.Store) -> str:
    """x finds the error at step 2, y at step 1; the lead settles step 1 as correct."""
    item = store.add_item("q", ["a", "b", "c"])
    for step, value in enumerate([1, 1, -1]):
        store.record_label(item=item, step=step, value=value, annotator="x")
    for step, value in enumerate([1, -1]):
        store.record_label(item=item, step=step, value=value, annotator="y")
    [dispute] = lw.disagreements(store)
    lw.adjudicate(store, dispute, 1, annotator="lead")
    return item


def labels_of(rows: list[dict[str, Any]]) -> list[list[bool]]:
    return sorted(row["labels"] for row in rows)


def test_a_dataset_built_from_the_store_takes_the_adjudicated_label(
    store: lw.Store, disputed: str
) -> None:
    tok = tokenizer()
    # y's step 1 becomes correct; y never rated step 2, so y's row ends there.
    assert labels_of(list(StepDataset(store, tok).rows())) == [[True, True], [True, True, False]]
    assert labels_of(list(StepDataset(store, tok, adjudicated=False).rows())) == [
        [True, False],
        [True, True, False],
    ]


def test_exports_take_the_adjudicated_label_unless_told_not_to(
    store: lw.Store, disputed: str, tmp_path: Path
) -> None:
    out = tmp_path / "rows.jsonl"
    lw.export(store, out, format="trl-stepwise")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert labels_of(rows) == [[True, True], [True, True, False]]
    lw.export(store, out, format="trl-stepwise", adjudicated=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert labels_of(rows) == [[True, False], [True, True, False]]
    # The adjudicator is no labeling of its own.
    assert len(rows) == 2


def test_blind_labels_show_who_accepts_wrong_suggestions(store: lw.Store) -> None:
    ids = [store.add_item(f"q{k}", ["a", "b"]) for k in range(40)]
    # The model calls every step correct; in truth step 1 is always wrong.
    lw.suggest(store, lambda p, s: [0.9, 0.8], name="prm", blind_rate=0.25, progress=False)
    blind = [item for item in ids if active.is_blind(item, 0.25)]
    shown = [item for item in ids if item not in blind]
    for item in ids:
        # careful weighs each suggestion: right on every step, as on blind items.
        store.record_label(item=item, step=0, value=1, annotator="careful")
        store.record_label(item=item, step=1, value=-1, annotator="careful")
    for item in shown[:10]:
        # stamp accepts whatever is suggested.
        store.record_label(item=item, step=0, value=1, annotator="stamp")
        store.record_label(item=item, step=1, value=1, annotator="stamp")
    assert lw.agreement(store).suggestions == []  # only when asked for
    found = {row["annotator"]: row for row in lw.agreement(store, suggestions=True).suggestions}
    # Blind: careful's 2 labels per blind item reject the suggestion on step 1, half of them.
    assert found["careful"] == {
        "annotator": "careful",
        "model": "model:prm",
        "shown_steps": 2 * len(shown),
        "agreed": 0.5,
        "blind_steps": 2 * len(blind),
        "wrong_blind": 0.5,
        "accepted_wrong": 0.0,
    }
    assert (found["stamp"]["shown_steps"], found["stamp"]["agreed"]) == (20, 1.0)
    assert found["stamp"]["accepted_wrong"] == 1.0
    assert "wrong ones accepted 1.000" in str(lw.agreement(store, suggestions=True))
