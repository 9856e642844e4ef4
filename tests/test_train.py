"""train_prm: transformers.Trainer on step labels, the loss only at TRL's label positions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
prm = pytest.importorskip("trl.experimental.prm")

import labwidget as lw  # noqa: E402
from labwidget.formats.trl import stepwise  # noqa: E402
from tests import prm_support  # noqa: E402


@pytest.fixture(scope="module")
def tok() -> Any:
    return prm_support.tokenizer()


@pytest.fixture
def store(tmp_path: Path) -> lw.Store:
    opened = lw.Store(tmp_path / "labels.db", annotator="rule")
    prm_support.fill(opened)
    return opened


def losses(trainer: Any) -> list[float]:
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


def test_the_loss_falls_and_each_evaluation_reports_the_prm_metrics(
    store: lw.Store, tok: Any, tmp_path: Path
) -> None:
    held = [item["id"] for item in store.items()][::3]
    trainer = lw.train_prm(
        prm_support.token_classifier(tok),
        tok,
        store,
        eval_items=held,
        args=prm_support.arguments(tmp_path, eval_strategy="epoch"),
    )
    curve = losses(trainer)
    assert sum(curve[-5:]) / 5 < 0.5 * sum(curve[:5]) / 5
    evaluations = [entry for entry in trainer.state.log_history if "eval_error_f1" in entry]
    assert len(evaluations) == 6  # one per epoch
    last = evaluations[-1]
    for name in ("eval_step_accuracy", "eval_step_auroc", "eval_erroneous_accuracy"):
        assert 0.0 <= last[name] <= 1.0
    assert last["eval_step_auroc"] > 0.9
    assert last["eval_error_f1"] > 0.8
    # The held-out items are evaluated on and never trained on.
    assert len(trainer.eval_dataset) == len(held)
    assert len(trainer.train_dataset) == len(store.items()) - len(held)
    # The trained PRM scores the held-out items the same way through evaluate_prm.
    scorer = lw.StepScorer(trainer.model, tok)
    report = lw.evaluate_prm(scorer, store, items=held)
    assert report["overall"]["f1"] == pytest.approx(last["eval_error_f1"])
    assert report["overall"]["step_accuracy"] == pytest.approx(last["eval_step_accuracy"])
    assert set(report["datasets"]) == {"even", "odd"}
    assert set(report["sources"]) == {"auto:rule"}


def test_the_trainer_feeds_the_model_trls_tokenization(
    store: lw.Store, tok: Any, tmp_path: Path
) -> None:
    trainer = lw.train_prm(
        prm_support.token_classifier(tok),
        tok,
        store,
        args=prm_support.arguments(tmp_path, max_steps=1),
    )
    fed = []
    for batch in trainer.get_train_dataloader():
        for ids, mask, labels in zip(
            batch["input_ids"], batch["attention_mask"], batch["labels"], strict=True
        ):
            n = int(mask.sum())
            assert (labels[n:] == -100).all()  # padding is never trained on
            fed.append((ids[:n].tolist(), labels[:n].tolist()))
    theirs = [
        prm.PRMTrainer.tokenize_row(row, tok, "\n", 1024, None, False, False)
        for row in stepwise(store)
    ]
    assert sorted(fed) == sorted((t["input_ids"], t["labels"]) for t in theirs)
    # The collated batch is TRL's DataCollatorForTokenClassification's.
    examples = [trainer.train_dataset[i] for i in range(4)]
    trl_collate = transformers.DataCollatorForTokenClassification(tok, return_tensors="pt")
    ours, expected = trainer.data_collator(examples), trl_collate(examples)
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(ours[key], expected[key])


def test_a_causal_lm_with_a_step_head_in_qwens_layout(tmp_path: Path) -> None:
    tok = prm_support.tokenizer(chat=True)
    store = lw.Store(tmp_path / "labels.db", annotator="rule")
    held = prm_support.fill(store, n=120)[::3]
    trainer = lw.train_prm(
        prm_support.qwen_prm(tok),
        tok,
        store,
        eval_items=held,
        layout="qwen",
        args=prm_support.arguments(tmp_path, eval_strategy="epoch", learning_rate=1e-2),
    )
    curve = losses(trainer)
    assert sum(curve[-5:]) / 5 < 0.5 * sum(curve[:5]) / 5
    assert trainer.state.log_history[-2]["eval_step_auroc"] > 0.9
    # Labels sit exactly where the model card reads the rewards: at every <extra_0> of the
    # tokenized conversation, which the example is a prefix of (up to the last <extra_0>).
    step_id = tok.encode("<extra_0>")[0]
    for index, row in enumerate(trainer.train_dataset.rows()):
        example = trainer.train_dataset[index]
        messages = next(
            r["messages"]
            for r in lw.formats.export_qwen(store)
            if r["messages"][1]["content"] == row["prompt"]
            and r["messages"][2]["content"].split("<extra_0>")[:-1] == row["completions"]
        )
        full = tok.encode(tok.apply_chat_template(messages, tokenize=False))
        n = len(example["input_ids"])
        assert full[:n] == example["input_ids"]
        assert full[n - 1] == step_id
        marked = [i for i, label in enumerate(example["labels"]) if label != -100]
        assert marked == [i for i, token in enumerate(full) if token == step_id]
        assert [example["labels"][i] for i in marked] == [int(x) for x in row["labels"]]
    # StepScorer reads the same positions: it agrees with the Trainer's own evaluation.
    scorer = lw.StepScorer(trainer.model, tok, layout="qwen")
    report = lw.evaluate_prm(scorer, store, items=held)
    final = trainer.evaluate()
    assert report["overall"]["auroc"] == pytest.approx(final["eval_step_auroc"])


def test_a_step_dataset_trains_too_and_bad_combinations_are_refused(
    store: lw.Store, tok: Any, tmp_path: Path
) -> None:
    data = lw.StepDataset(store, tok)
    trainer = lw.train_prm(
        prm_support.token_classifier(tok),
        tok,
        data,
        args=prm_support.arguments(tmp_path, max_steps=2),
    )
    assert trainer.train_dataset is data
    assert trainer.state.global_step == 2
    model = prm_support.token_classifier(tok)
    with pytest.raises(ValueError, match="with a StepDataset, build its eval set yourself"):
        lw.train_prm(model, tok, data, eval_items=["x"])
    with pytest.raises(TypeError, match="put one id in a list"):
        lw.train_prm(model, tok, store, eval_items="abc")
    with pytest.raises(ValueError, match="layout is one of trl, qwen"):
        lw.train_prm(model, tok, store, layout="chatml")


def test_import_labwidget_loads_neither_torch_nor_transformers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, labwidget as lw; lw.evaluate_prm; lw.best_of_n; "
        "print('torch' in sys.modules, 'transformers' in sys.modules, 'trl' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


def test_a_small_set_is_preloaded_and_gives_the_stores_examples(
    store: lw.Store, tok: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labwidget import train
    from labwidget._layout import layout

    preloaded = train._Steps(store, tok, layout=layout("trl"))
    monkeypatch.setattr(train, "PRELOAD", 0)
    from_store = train._Steps(store, tok, layout=layout("trl"))
    assert preloaded._loaded is not None
    assert from_store._loaded is None
    order = [5, 0, 17, 3, 3, len(preloaded) - 1]
    assert preloaded.__getitems__(order) == from_store.__getitems__(order)
    assert [preloaded[i] for i in range(len(preloaded))] == list(
        lw.StepDataset(store, tok).encode(list(lw.StepDataset(store, tok).rows()))
    )
