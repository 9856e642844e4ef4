"""Each step's probability of being correct, from a PRM with 2-way logits on every token.

The model is an ``AutoModelForTokenClassification`` with ``num_labels=2`` (TRL's layout), or a
causal LM with a 2-class head read at a step token (Qwen2.5-Math-PRM's layout: its
``Qwen2ForProcessRewardModel`` returns logits of shape (batch, length, 2) too). Rows are
tokenized as ``train_prm`` tokenizes them (``encode_steps`` in the given layout), and the
probability of class 1 is read at the label positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

try:
    import torch
except ImportError as exc:
    raise ImportError("StepScorer needs torch: pip install 'labwidget[torch]'") from exc

from labwidget._collate import StepCollator
from labwidget._encoding import IGNORED, encode_steps
from labwidget._layout import layout as make_layout
from labwidget.formats.qwen import SYSTEM


def logits_of(outputs: Any) -> torch.Tensor:
    """The logits in a model's output: a ``ModelOutput``'s ``logits``, a tuple's first, a tensor."""
    if isinstance(outputs, Mapping):
        return outputs["logits"]  # type: ignore[no-any-return]
    if isinstance(outputs, tuple):
        return outputs[0]  # type: ignore[no-any-return]
    return outputs  # type: ignore[no-any-return]


class StepScorer:
    """A PRM as a function: rows ``{prompt, completions}`` in, each step's P(correct) out.

    Args:
        model: the PRM; its output's logits are (batch, length, 2), class 1 "correct".
        tokenizer: its tokenizer.
        layout: ``"trl"`` or ``"qwen"``, as for ``train_prm``.
        step_separator: the separator after each step in the ``trl`` layout.
        system: the system turn in the ``qwen`` layout (None: no system turn).
        max_length: cut each row to this many tokens; the steps past the cut get no
            probability (their list is shorter). None keeps every step.
        batch_size: rows per forward pass (rows of similar length are batched together).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        layout: str = "trl",
        step_separator: str | None = None,
        system: str | None = SYSTEM,
        max_length: int | None = None,
        batch_size: int = 16,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.layout = make_layout(layout, step_separator=step_separator, system=system)
        self.max_length = max_length
        self.batch_size = batch_size
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._collate = StepCollator(pad_token_id=pad)

    def encode(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, list[int]]]:
        """The encoded rows, labels marking where each step's probability is read."""
        marked = [{**row, "labels": [1] * len(row["completions"])} for row in rows]
        return encode_steps(
            self.layout.rows(marked, self.tokenizer),
            self.tokenizer,
            step_separator=self.layout.step_separator,
            max_length=self.max_length,
        )

    @torch.no_grad()
    def __call__(self, rows: Sequence[dict[str, Any]]) -> list[list[float]]:
        """Each step's probability of being correct, per row (shorter where ``max_length`` cut)."""
        encoded = self.encode(rows)
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        out: list[list[float]] = [[] for _ in encoded]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))
        try:
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                batch = self._collate([encoded[i] for i in chosen])
                logits = logits_of(
                    self.model(
                        input_ids=batch["input_ids"].to(device),
                        attention_mask=batch["attention_mask"].to(device),
                    )
                )
                correct = logits.float().softmax(-1)[..., 1].cpu()
                marked = batch["labels"] != IGNORED
                for row, index in enumerate(chosen):
                    out[index] = correct[row][marked[row]].tolist()
        finally:
            self.model.train(was_training)
        return out
