"""Training a process reward model on a store's step labels with ``transformers.Trainer``.

TRL's ``PRMTrainer`` (trl <= 1.13) was a ``Trainer`` with a tokenizing ``map`` in front; here the
tokenizing is ``StepDataset``'s (the same tensors, read from the store as batches are drawn), and
the rest is ``Trainer`` extended at its seams, never re-implemented: ``compute_loss_func`` takes
the cross-entropy at the step-label positions only (-100 elsewhere), from the logits, so that a
model that computes no loss of its own trains too (a causal LM with a 2-class head, as
Qwen2.5-Math-PRM is), and ``compute_metrics`` reports ``evaluate.score`` at each evaluation.
Nothing here imports TRL.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

try:
    import numpy as np
    import torch
    import transformers
except ImportError as exc:
    raise ImportError(
        "train_prm needs torch and transformers: pip install 'labwidget[train]'"
    ) from exc

from labwidget._encoding import IGNORED
from labwidget._layout import Layout
from labwidget._layout import layout as make_layout
from labwidget.data import StepDataset
from labwidget.evaluate import score
from labwidget.formats.qwen import SYSTEM
from labwidget.scorer import logits_of
from labwidget.store import Store


def step_loss(
    outputs: Any, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None
) -> torch.Tensor:
    """Cross-entropy over the 2 classes at the labelled positions, as the Trainer's loss.

    Summed and divided by the labels in the whole (accumulated) batch when the Trainer counts
    them, as a token-classification model's own loss is, so gradient accumulation is exact.
    """
    logits = logits_of(outputs).float()
    flat = labels.reshape(-1).to(logits.device)
    total = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), flat, ignore_index=IGNORED, reduction="sum"
    )
    count = num_items_in_batch if num_items_in_batch is not None else (flat != IGNORED).sum()
    if isinstance(count, torch.Tensor):
        count = count.to(total.device)
    return total / count


def step_probabilities(logits: Any, labels: torch.Tensor) -> torch.Tensor:
    """P(correct) at every position: what evaluation keeps of the logits (half their size)."""
    return logits_of(logits).float().softmax(-1)[..., 1]


class StepMetrics:
    """``compute_metrics`` for the Trainer: ``evaluate.score`` over the evaluation rows.

    Each evaluation row is one solution for the earliest-error F1; metrics that cannot be
    computed (no wrong step for the AUROC, say) are left out of the log.

    Args:
        threshold: the probability at and above which a step is predicted correct.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def __call__(self, prediction: transformers.EvalPrediction) -> dict[str, float]:
        """The figures of one evaluation, from the step probabilities at the labelled positions."""
        probabilities = np.asarray(prediction.predictions)
        labels = np.asarray(prediction.label_ids)
        truth, scored = [], []
        for probs, marks in zip(probabilities, labels, strict=True):
            at = marks != IGNORED
            truth.append([bool(mark) for mark in marks[at]])
            scored.append([float(p) for p in probs[at]])
        found = score(truth, scored, self.threshold)
        named = {
            "step_accuracy": found["step_accuracy"],
            "step_auroc": found["auroc"],
            "error_f1": found["f1"],
            "erroneous_accuracy": found["erroneous"],
            "correct_accuracy": found["correct"],
        }
        return {name: value for name, value in named.items() if value is not None}


# Up to this many examples are kept encoded in memory (4 bytes a token), as TRL's ``map`` keeps
# every example: a training loop then never waits for the store. Larger sets are read from the
# store a batch at a time, as ``StepDataset`` does.
PRELOAD = 50_000
CHUNK = 256  # rows encoded in one tokenizer call while preloading


class _Steps(StepDataset):
    """A ``StepDataset`` of some items only (or all but some), in a layout, preloaded if small.

    ``StepDataset`` has no item filter of its own; this one keeps the labellings of the wanted
    items from its index, and writes each prompt in the layout before it is tokenized.
    """

    def __init__(
        self,
        store: Store,
        tokenizer: Any,
        *,
        layout: Layout,
        only: Sequence[str] | None = None,
        leave_out: Sequence[str] = (),
        **options: Any,
    ) -> None:
        self.layout = layout
        self._only_items = None if only is None else set(only)
        self._leave_out = set(leave_out)
        super().__init__(store, tokenizer, step_separator=layout.step_separator, **options)
        self._loaded = list(self._encoded()) if len(self) <= PRELOAD else None

    def _encoded(self) -> Iterator[tuple[array[int], array[int]]]:
        """Every example, in order, as compact arrays: read and encoded a chunk at a time."""
        rows = self.rows()
        while chunk := list(islice(rows, CHUNK)):
            for example in self.encode(chunk):
                yield array("i", example["input_ids"]), array("i", example["labels"])

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, list[int]]]:
        """Many examples at once: from memory when preloaded, else from the store."""
        if self._loaded is None:
            return super().__getitems__(indices)
        found = (self._loaded[i] for i in indices)
        return [{"input_ids": ids.tolist(), "labels": labels.tolist()} for ids, labels in found]

    def _keeps(self, item: str) -> bool:
        return (
            self._only_items is None or item in self._only_items
        ) and item not in self._leave_out

    def encode(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, list[int]]]:
        """Tokenize text rows, each prompt written in this dataset's layout first."""
        return super().encode(self.layout.rows(rows, self.tokenizer))


def train_prm(
    model: Any,
    tokenizer: Any,
    data: Store | StepDataset,
    *,
    args: transformers.TrainingArguments | None = None,
    eval_items: Sequence[str] | None = None,
    eval_dataset: StepDataset | None = None,
    layout: str = "trl",
    system: str | None = SYSTEM,
    threshold: float = 0.5,
    callbacks: list[transformers.TrainerCallback] | None = None,
    **dataset_options: Any,
) -> transformers.Trainer:
    """Train ``model`` as a PRM on labelled steps with ``transformers.Trainer``, and return it.

    The loss is the cross-entropy at each step's label position only. At each evaluation the
    Trainer logs ``eval_step_accuracy``, ``eval_step_auroc`` and ProcessBench's
    ``eval_error_f1`` (with ``eval_erroneous_accuracy`` and ``eval_correct_accuracy``).

    For example (a model and a store of your own)::

        trainer = lw.train_prm(model, tok, store, eval_items=held_out)
        trainer.state.log_history[-2]["eval_error_f1"]  # the last evaluation

    Args:
        model: a token classifier with 2 labels (``AutoModelForTokenClassification``), or any
            module whose output's logits are (batch, length, 2), such as a causal LM with a
            2-class head in the ``qwen`` layout.
        tokenizer: its tokenizer (it needs a pad or EOS token).
        data: a store (its labelled items, as ``StepDataset`` reads them), or a ``StepDataset``.
        args: the Trainer's arguments; by default no checkpoints, no reporting, and an
            evaluation each epoch when there is something to evaluate. ``label_names`` is set
            to ``["labels"]`` when it is not set, so that a model whose ``forward`` takes no
            ``labels`` is still evaluated.
        eval_items: item ids held out of training and evaluated on (with ``data`` a store).
        eval_dataset: a ``StepDataset`` to evaluate on instead.
        layout: ``"trl"`` (prompt, then each step and ``step_separator``, as TRL 1.13's
            ``PRMTrainer``) or ``"qwen"`` (Qwen2.5-Math-PRM's chat, ``<extra_0>`` after each step;
            see ``formats.qwen``). Only with ``data`` a store.
        system: the system turn of the ``qwen`` layout (None: none).
        threshold: the probability at and above which a step is predicted correct.
        callbacks: more ``TrainerCallback``s.
        **dataset_options: ``StepDataset`` options (``neutral``, ``dataset``, ``source``,
            ``annotator``, ``max_length``, ``step_separator``, …), with ``data`` a store.

    Raises:
        ValueError: both ``eval_items`` and ``eval_dataset``, or store options with a dataset.
    """
    if eval_items is not None and eval_dataset is not None:
        raise ValueError("give eval_items or eval_dataset, not both")
    if isinstance(eval_items, str):
        raise TypeError("eval_items is a list of item ids: put one id in a list")
    if isinstance(data, StepDataset):
        if eval_items is not None or dataset_options or layout != "trl":
            raise ValueError(
                "with a StepDataset, build its eval set yourself (eval_dataset=) and set its "
                "options when you build it; eval_items, layout and dataset options need a store"
            )
        train = data
    else:
        separator = dataset_options.pop("step_separator", None)
        shape = make_layout(layout, step_separator=separator, system=system)
        held = list(eval_items or ())
        train = _Steps(data, tokenizer, layout=shape, leave_out=held, **dataset_options)
        if eval_items is not None:
            eval_dataset = _Steps(
                data, tokenizer, layout=shape, only=held, **{**dataset_options, "is_eval": True}
            )
    if args is None:
        args = transformers.TrainingArguments(
            output_dir="prm",
            report_to="none",
            save_strategy="no",
            eval_strategy="epoch" if eval_dataset is not None else "no",
        )
    if args.label_names is None:
        args.label_names = ["labels"]
    evaluating = eval_dataset is not None
    trainer = transformers.Trainer(
        model=model,
        args=args,
        data_collator=train.collate,
        train_dataset=train,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        compute_loss_func=step_loss,
        compute_metrics=StepMetrics(threshold) if evaluating else None,
        preprocess_logits_for_metrics=step_probabilities if evaluating else None,
        callbacks=callbacks,
    )
    trainer.train()
    return trainer
