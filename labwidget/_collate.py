"""Collators that pad encoded examples into batches, laid out as TRL's trainers expect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


def pad(rows: Sequence[Sequence[int]], value: int, multiple_of: int | None = None) -> torch.Tensor:
    """Right-pad lists of ids into one ``long`` tensor.

    >>> pad([[1, 2, 3], [4]], 0)
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    width = max((len(row) for row in rows), default=0)
    if multiple_of:
        width = -(-width // multiple_of) * multiple_of
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
    return out


def mask(rows: Sequence[Sequence[int]], multiple_of: int | None = None) -> torch.Tensor:
    """The attention mask for ``pad(rows, …)``: 1 on real tokens, 0 on padding."""
    return pad([[1] * len(row) for row in rows], 0, multiple_of)


@dataclass
class StepCollator:
    """Pad stepwise examples as TRL's ``DataCollatorForTokenClassification`` does (right side).

    >>> StepCollator(pad_token_id=0)([
    ...     {"input_ids": [5, 6, 7], "labels": [-100, -100, 1]},
    ...     {"input_ids": [8], "labels": [0]},
    ... ])
    {'input_ids': tensor([[5, 6, 7],
            [8, 0, 0]]), 'attention_mask': tensor([[1, 1, 1],
            [1, 0, 0]]), 'labels': tensor([[-100, -100,    1],
            [   0, -100, -100]])}

    Attributes:
        pad_token_id: the id padding ``input_ids``; labels are padded with -100.
        pad_to_multiple_of: round the padded width up to a multiple of this.
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = [example["input_ids"] for example in examples]
        labels = [example["labels"] for example in examples]
        return {
            "input_ids": pad(ids, self.pad_token_id, self.pad_to_multiple_of),
            "attention_mask": mask(ids, self.pad_to_multiple_of),
            "labels": pad(labels, -100, self.pad_to_multiple_of),
        }


@dataclass
class PreferenceCollator:
    """Batch preference pairs as TRL's ``DataCollatorForPreference``: chosen rows, then rejected.

    >>> PreferenceCollator(pad_token_id=0)([
    ...     {"chosen_ids": [1, 2, 3], "rejected_ids": [4, 5], "margin": 0.5},
    ...     {"chosen_ids": [6, 7], "rejected_ids": [8], "margin": 0.0},
    ... ])
    {'input_ids': tensor([[1, 2, 3],
            [6, 7, 0],
            [4, 5, 0],
            [8, 0, 0]]), 'attention_mask': tensor([[1, 1, 1],
            [1, 1, 0],
            [1, 1, 0],
            [1, 0, 0]]), 'margin': tensor([0.5000, 0.0000])}

    Attributes:
        pad_token_id: the id padding ``input_ids``.
        pad_to_multiple_of: round the padded width up to a multiple of this.
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = [e["chosen_ids"] for e in examples] + [e["rejected_ids"] for e in examples]
        batch = {
            "input_ids": pad(ids, self.pad_token_id, self.pad_to_multiple_of),
            "attention_mask": mask(ids, self.pad_to_multiple_of),
        }
        if examples and "margin" in examples[0]:
            margins = [float(e["margin"]) for e in examples]
            batch["margin"] = torch.tensor(margins, dtype=torch.float)
        return batch
