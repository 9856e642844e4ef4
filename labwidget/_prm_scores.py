"""A token-classification PRM's step probabilities, read at the positions ``StepDataset`` trains.

Items are encoded by ``encode_steps`` (every step labeled, so each step's separator position is
marked), padded into batches and run under ``torch.inference_mode``; the logits at the marked
positions become probabilities on the device, and only that short vector is copied back.
"""

from __future__ import annotations

from typing import Any

import torch

from labwidget._encoding import IGNORED, encode_steps


def model_scores(
    prm: torch.nn.Module,
    tokenizer: Any,
    chunk: list[dict[str, Any]],
    *,
    batch_size: int,
    device: Any,
    step_separator: str,
    max_length: int | None,
) -> list[list[float]]:
    """Per item, the probability that each step is correct (steps cut by ``max_length``: none).

    Raises:
        ValueError: the model's logits have neither 1 nor 2 classes.
    """
    from labwidget.data import _pad_id

    rows = [
        {"prompt": item["prompt"], "completions": item["steps"], "labels": [1] * len(item["steps"])}
        for item in chunk
    ]
    encoded = encode_steps(rows, tokenizer, step_separator=step_separator, max_length=max_length)
    pad = _pad_id(tokenizer)
    if device is None:
        device = next(prm.parameters(), torch.empty(0)).device
    was_training = prm.training
    prm.eval()
    out: list[list[float]] = []
    try:
        with torch.inference_mode():
            for start in range(0, len(encoded), batch_size):
                out += _batch(prm, encoded[start : start + batch_size], pad, device)
    finally:
        prm.train(was_training)
    return out


def _batch(
    prm: torch.nn.Module, examples: list[dict[str, list[int]]], pad: int, device: Any
) -> list[list[float]]:
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    marks = torch.full((len(examples), width), IGNORED, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        ids[row, :n] = torch.tensor(example["input_ids"])
        marks[row, :n] = torch.tensor(example["labels"])
        attention[row, :n] = 1
    counts = (marks != IGNORED).sum(dim=1).tolist()
    output = prm(input_ids=ids.to(device), attention_mask=attention.to(device))
    logits = output if isinstance(output, torch.Tensor) else output.logits
    at = logits[(marks != IGNORED).to(logits.device)]
    if at.shape[-1] == 2:
        probabilities = at.float().softmax(dim=-1)[:, 1]
    elif at.shape[-1] == 1:
        probabilities = at.float()[:, 0].sigmoid()
    else:
        raise ValueError(
            f"the PRM's logits have {at.shape[-1]} classes per token: suggest reads a "
            "token-classification model with 2 (wrong, right) or 1 (a logit of right)"
        )
    flat = probabilities.cpu().tolist()
    found: list[list[float]] = []
    for count in counts:
        found.append(flat[:count])
        flat = flat[count:]
    return found
