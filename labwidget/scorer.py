"""Each step's probability of being correct, from a PRM with 2-way logits on every token.

The model is an ``AutoModelForTokenClassification`` with ``num_labels=2`` (TRL's layout), or a
causal LM with a 2-class head read at a step token (Qwen2.5-Math-PRM's layout: its
``Qwen2ForProcessRewardModel`` returns logits of shape (batch, length, 2) too); a head with one
logit per token gives its sigmoid. Rows are tokenized as ``train_prm`` tokenizes them
(``encode_steps`` in the given layout) and batched by length; the probabilities are computed at
the label positions on the model's device, and only that short vector per batch is copied back.
``labwidget.suggest`` scores a store's items with it too.
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
    """The logits in a model's output: a tensor, a tuple's first, else its ``logits``.

    A ``ModelOutput`` is a mapping with ``"logits"``; other outputs carry them as an attribute.
    """
    if isinstance(outputs, torch.Tensor):
        return outputs
    if isinstance(outputs, tuple):
        return outputs[0]  # type: ignore[no-any-return]
    if isinstance(outputs, Mapping):
        return outputs["logits"]  # type: ignore[no-any-return]
    return outputs.logits  # type: ignore[no-any-return]


class StepScorer:
    """A PRM as a function: rows ``{prompt, completions}`` in, each step's P(correct) out.

    Args:
        model: the PRM; its output's logits are (batch, length, 2), class 1 "correct", or
            (batch, length, 1), a logit of "correct".
        tokenizer: its tokenizer.
        layout: ``"trl"`` or ``"qwen"``, as for ``train_prm``.
        step_separator: the separator after each step in the ``trl`` layout.
        system: the system turn in the ``qwen`` layout (None: no system turn).
        max_length: cut each row to this many tokens; the steps past the cut get no
            probability (their list is shorter). None keeps every step.
        batch_size: rows per forward pass (rows of similar length are batched together).
        device: where the inputs go; default where the model's parameters are.
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
        device: Any = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.layout = make_layout(layout, step_separator=step_separator, system=system)
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        pad = next(
            (t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id) if t is not None), 0
        )
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

    def __call__(self, rows: Sequence[dict[str, Any]]) -> list[list[float]]:
        """Each step's probability of being correct, per row (shorter where ``max_length`` cut).

        Raises:
            ValueError: the model's logits have neither 1 nor 2 classes.
        """
        encoded = self.encode(rows)
        device = self.device
        if device is None:
            device = next(self.model.parameters(), torch.empty(0)).device
        was_training = self.model.training
        self.model.eval()
        out: list[list[float]] = [[] for _ in encoded]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))
        try:
            with torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    chosen = order[start : start + self.batch_size]
                    found = self._batch([encoded[i] for i in chosen], device)
                    for index, probabilities in zip(chosen, found, strict=True):
                        out[index] = probabilities
        finally:
            self.model.train(was_training)
        return out

    def _batch(self, examples: list[dict[str, Any]], device: Any) -> list[list[float]]:
        """One forward pass; each example's probabilities at its marked positions."""
        batch = self._collate(examples)
        marked = batch["labels"] != IGNORED
        logits = logits_of(
            self.model(
                input_ids=batch["input_ids"].to(device),
                attention_mask=batch["attention_mask"].to(device),
            )
        )
        at = logits[marked.to(logits.device)]
        if at.shape[-1] == 2:
            probabilities = at.float().softmax(dim=-1)[:, 1]
        elif at.shape[-1] == 1:
            probabilities = at.float()[:, 0].sigmoid()
        else:
            raise ValueError(
                f"the PRM's logits have {at.shape[-1]} classes per token: a step's probability "
                "is read from a token-classification model with 2 (wrong, right) or 1 (a logit "
                "of right)"
            )
        counts = marked.sum(dim=1).tolist()
        return [part.tolist() for part in torch.split(probabilities.cpu(), counts)]
