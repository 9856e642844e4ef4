"""suggest(): your PRM's step scores land as model:<name> predictions at the right steps."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

import labwidget as lw
from labwidget import active
from labwidget.data import StepDataset

GOOD, BAD = 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))  # sigmoid(2), sigmoid(-2)


def word_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<s>": 1, "q": 2, "good": 3, "bad": 4, "\n": 5, "r": 6}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", "removed"), pre_tokenizers.Split("\n", "isolated")]
    )
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>")


class PreviousToken(torch.nn.Module):
    """A token classifier whose logits at a position come from the token before it.

    At a step's separator that is the step's last word: "good" gives logits (0, 2), so
    softmax[1] = sigmoid(2); "bad" gives (1, -1), so sigmoid(-2). It answers as Hugging Face
    token classifiers do, with an output holding ``.logits``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.table = torch.nn.Embedding(7, 2)
        with torch.no_grad():
            self.table.weight.zero_()
            self.table.weight[3] = torch.tensor([0.0, 2.0])
            self.table.weight[4] = torch.tensor([1.0, -1.0])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        return SimpleNamespace(logits=self.table(torch.roll(input_ids, 1, dims=1)))


class OneLogit(torch.nn.Module):
    """A one-logit head returning a plain tensor: sigmoid(logit) is the probability."""

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        previous = torch.roll(input_ids, 1, dims=1)
        return ((previous == 3).float() * 4 - 2).unsqueeze(-1)


def predictions(store: lw.Store) -> list[tuple[Any, ...]]:
    return [
        (e["item"], e["step"], e["value"], round(e["score"], 6), round(e["confidence"], 6))
        for e in store.events(kind="prediction")
    ]


def test_scores_land_as_model_predictions_at_each_step(store: lw.Store) -> None:
    first = store.add_item("q", ["good", "bad", "good"])
    second = store.add_item("r", ["bad bad", "good"])
    summary = lw.suggest(store, PreviousToken(), word_tokenizer(), name="tiny", progress=False)
    assert (summary.scored, summary.skipped, summary.steps) == (2, 0, 5)
    good, bad = round(GOOD, 6), round(BAD, 6)
    assert sorted(predictions(store)) == sorted(
        [
            (first, 0, 1, good, good),
            (first, 1, -1, bad, good),
            (first, 2, 1, good, good),
            (second, 0, -1, bad, good),
            (second, 1, 1, good, good),
        ]
    )
    event = store.events(kind="prediction")[0]
    assert (event["source"], event["annotator"]) == ("model:tiny", "model:tiny")
    assert event["meta"] == {"threshold": 0.5}


def test_predictions_are_suggestions_not_labels(store: lw.Store, tmp_path: Any) -> None:
    item = store.add_item("q", ["good", "bad"])
    lw.suggest(store, PreviousToken(), word_tokenizer(), name="tiny", progress=False)
    assert store.labels() == []
    assert lw.export(store, tmp_path / "rows.jsonl", format="trl-stepwise") == 0
    assert len(StepDataset(store, word_tokenizer())) == 0
    assert lw.suggestions(store, item) == {
        "suggestions": [
            {"value": 1, "confidence": pytest.approx(GOOD), "source": "model:tiny"},
            {"value": -1, "confidence": pytest.approx(GOOD), "source": "model:tiny"},
        ],
        "blind": False,
        "source": "model:tiny",
    }


def test_a_one_logit_model_and_a_cut_step(store: lw.Store) -> None:
    item = store.add_item("q", ["good", "bad", "good"])
    # <s> q good \n bad \n | good \n: the third step's separator is past max_length=6.
    lw.suggest(store, OneLogit(), word_tokenizer(), name="one", max_length=6, progress=False)
    assert [(e["step"], e["value"]) for e in store.events(kind="prediction")] == [(0, 1), (1, -1)]
    assert lw.suggestions(store, item, model="one")["suggestions"][2] is None
    again = lw.suggest(
        store, OneLogit(), word_tokenizer(), name="one", max_length=6, progress=False
    )
    assert (again.scored, again.skipped) == (0, 1)


def test_a_rerun_skips_and_a_new_version_scores_again(store: lw.Store) -> None:
    item = store.add_item("q", ["good", "bad"])
    model, tokenizer = PreviousToken(), word_tokenizer()
    lw.suggest(store, model, tokenizer, name="tiny", progress=False)
    again = lw.suggest(store, model, tokenizer, name="tiny", progress=False)
    assert (again.scored, again.skipped, len(store.events(kind="prediction"))) == (0, 1, 2)
    with torch.no_grad():
        model.table.weight[4] = torch.tensor([-1.0, 1.0])  # v2 thinks "bad" is fine
    newer = lw.suggest(store, model, tokenizer, name="tiny", version="2", progress=False)
    assert (newer.scored, len(store.events(kind="prediction"))) == (1, 4)
    assert [s["value"] for s in lw.suggestions(store, item)["suggestions"]] == [1, 1]
    assert store.events(kind="prediction")[-1]["meta"] == {"threshold": 0.5, "version": "2"}


def test_a_function_of_prompt_and_steps(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    lw.suggest(store, lambda prompt, steps: [0.25, 0.75], name="fn", progress=False)
    assert [(e["value"], e["score"]) for e in store.events(kind="prediction")] == [
        (-1, 0.25),
        (1, 0.75),
    ]
    with pytest.raises(ValueError, match=f"for item '{item}': it must return one probability"):
        lw.suggest(store, lambda prompt, steps: [0.5], name="short", progress=False)
    with pytest.raises(TypeError, match="items is a list of item ids"):
        lw.suggest(store, lambda p, s: [0.5, 0.5], name="fn", items=item, progress=False)


def test_blind_items_show_no_suggestion_and_are_marked_in_the_store(store: lw.Store) -> None:
    ids = [store.add_item(f"q{k}", ["a", "b"]) for k in range(40)]
    lw.suggest(store, lambda p, s: [0.9, 0.2], name="fn", blind_rate=0.25, progress=False)
    blind = [item for item in ids if active.is_blind(item, 0.25)]
    assert 0 < len(blind) < len(ids)
    marked = {e["item"] for e in store.events(kind="prediction") if e["meta"].get("blind")}
    assert marked == set(blind)
    assert lw.suggestions(store, blind[0]) == {
        "suggestions": [None, None],
        "blind": True,
        "source": "model:fn",
    }
    shown = next(item for item in ids if item not in blind)
    assert lw.suggestions(store, shown)["suggestions"][0] == {
        "value": 1,
        "confidence": 0.9,
        "source": "model:fn",
    }
    # The same rate keeps the same items blind, and a larger one keeps them too.
    assert all(active.is_blind(item, 0.5) for item in blind)


def test_suggestions_name_the_model_when_several_scored_an_item(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    lw.suggest(store, lambda p, s: [0.9], name="one", progress=False)
    lw.suggest(store, lambda p, s: [0.1], name="two", progress=False)
    with pytest.raises(ValueError, match="model:one, model:two: pass model="):
        lw.suggestions(store, item)
    assert lw.suggestions(store, item, model="two")["suggestions"] == [
        {"value": -1, "confidence": 0.9, "source": "model:two"}
    ]


def test_bad_arguments_are_refused(store: lw.Store) -> None:
    with pytest.raises(ValueError, match="0 <= blind_rate <= 1"):
        lw.suggest(store, lambda p, s: [], name="x", blind_rate=2)
    with pytest.raises(TypeError, match="prm must be a torch model"):
        lw.suggest(store, object(), name="x")
    with pytest.raises(lw.LabelError, match="a prediction is a probability"):
        store.record("prediction", item=store.add_item("q", ["a"]), step=0, value=1, score=1.5)
