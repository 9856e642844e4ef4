"""Stepwise rows tokenized exactly as TRL 1.13's ``PRMTrainer.tokenize_row``, and what it cuts.

TRL right-truncates each example to ``max_length`` (after ``max_completion_length``) without a
word: a label past the cut is gone, and a row can be left with no label at all.
``written_labels`` and ``kept_labels`` count that, from the very encodings the dataset trains on.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

IGNORED = -100  # the label of a position that is not trained on (PyTorch's ignore_index)


def encode_steps(
    rows: Sequence[dict[str, Any]],
    tokenizer: Any,
    *,
    step_separator: str = "\n",
    max_length: int | None = 1024,
    max_completion_length: int | None = None,
    train_on_last_step_only: bool = False,
    is_eval: bool = False,
) -> list[dict[str, list[int]]]:
    r"""Tokenize stepwise rows exactly as TRL 1.13's ``PRMTrainer.tokenize_row``, in one batch.

    BOS (when the tokenizer has one), the prompt, then each step followed by the separator; the
    label sits on the last separator token of each step, -100 elsewhere.

    >>> from transformers import PreTrainedTokenizerFast
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> vocab = {"<s>": 0, "2+2": 1, "is": 2, "4": 3, "\n": 4}
    >>> core = Tokenizer(models.WordLevel(vocab, unk_token="<s>"))
    >>> core.pre_tokenizer = pre_tokenizers.Split("\n", "isolated")
    >>> tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>")
    >>> encode_steps([{"prompt": "2+2", "completions": ["is", "4"], "labels": [True, False]}], tok)
    [{'input_ids': [0, 1, 2, 4, 3, 4], 'labels': [-100, -100, -100, 1, -100, 0]}]
    """
    separator = tokenizer.encode(step_separator, add_special_tokens=False)
    bos = tokenizer.bos_token_id
    texts = list(chain.from_iterable([row["prompt"], *row["completions"]] for row in rows))
    ids = iter(_token_ids(tokenizer, texts))
    out = []
    for row in rows:
        prompt = next(ids)
        steps = [next(ids) for _ in row["completions"]]
        labels = [int(label) for label in row["labels"]]
        if train_on_last_step_only and not is_eval:
            labels = [IGNORED] * (len(labels) - 1) + labels[-1:]
        if len(labels) != len(steps):
            raise ValueError(f"a row has {len(steps)} steps but {len(labels)} labels")
        completion: list[int] = []
        marks: list[int] = []
        for step, label in zip(steps, labels, strict=True):
            completion += step + separator
            marks += [IGNORED] * (len(step) + len(separator) - 1) + [label]
        head = [bos, *prompt] if bos is not None else prompt
        if max_completion_length is not None:
            completion, marks = completion[:max_completion_length], marks[:max_completion_length]
        input_ids, row_labels = head + completion, [IGNORED] * len(head) + marks
        if max_length is not None:
            input_ids, row_labels = input_ids[:max_length], row_labels[:max_length]
        out.append({"input_ids": input_ids, "labels": row_labels})
    return out


def _token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """``tokenizer(texts, add_special_tokens=False)["input_ids"]``, faster on a fast tokenizer."""
    if not texts:
        return []
    if getattr(tokenizer, "is_fast", False):
        # The Rust tokenizer itself: the same ids without building a BatchEncoding.
        encoded = tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return [e.ids for e in encoded]
    ids: list[list[int]] = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return ids


def written_labels(
    row: dict[str, Any], *, train_on_last_step_only: bool = False, is_eval: bool = False
) -> int:
    """How many step labels ``encode_steps`` writes for ``row`` when nothing is truncated.

    Every step's, or only the last one's with ``train_on_last_step_only`` (unless ``is_eval``).

    >>> row = {"prompt": "q", "completions": ["a", "b", "c"], "labels": [True, True, False]}
    >>> written_labels(row), written_labels(row, train_on_last_step_only=True)
    (3, 1)
    """
    if train_on_last_step_only and not is_eval:
        return min(len(row["labels"]), 1)
    return len(row["labels"])


def kept_labels(example: dict[str, list[int]]) -> int:
    """How many labels an encoded example carries: what truncation left of ``written_labels``.

    >>> kept_labels({"input_ids": [7, 8, 9, 8], "labels": [-100, -100, 1, -100]})
    1
    """
    labels = example["labels"]
    return len(labels) - labels.count(IGNORED)
