"""Turn model outputs into an Item: steps, tokens, and each token's log-prob and entropy.

Accepted outputs: a string; a list of step strings; token ids (tensor or list) with a
tokenizer; a Hugging Face ``generate`` output (``return_dict_in_generate=True``) with ``scores``
or ``logits``; or a logits tensor with its ids. Scores are computed in torch on the logits' own
device and only 1-D float32 vectors (one number per token) are moved to the CPU.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from labwidget._logprobs import token_scores
from labwidget.store import clean_text

if TYPE_CHECKING:
    import torch

__all__ = ["Item", "Split", "Tokenizer", "split_spans", "to_item"]

Split = Literal["newline", "blank", "step"] | re.Pattern[str] | Callable[[str], Sequence[str]]

# Separators between steps; "step" splits just before each "Step k:" marker, keeping it.
_SEPARATORS = {
    "newline": re.compile(r"\n"),
    "blank": re.compile(r"\n[ \t]*\n\s*"),
    "step": re.compile(r"(?=^[ \t]*Step\s+\d+\s*[:.])", re.MULTILINE | re.IGNORECASE),
}


class Tokenizer(Protocol):
    """What is needed of a tokenizer: ``decode`` and ``len`` (vocabulary incl. added tokens)."""

    def decode(self, ids: list[int], /) -> str: ...  # noqa: D102

    def __len__(self) -> int: ...


@dataclass
class Item:
    """A model output ready to label: steps, and per token its text, log-prob and entropy.

    ``tokens`` lists the output's tokens step after step (``step_token_counts`` per step);
    ``token_logprobs`` and ``token_entropies`` are 1-D float32 CPU tensors, one value per token,
    or None when the output carried no logits.
    """

    prompt: str
    steps: list[str]
    tokens: list[str] = field(default_factory=list)
    token_logprobs: torch.Tensor | None = None
    token_entropies: torch.Tensor | None = None
    step_token_counts: list[int] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def to_item(
    output: Any,
    *,
    tokenizer: Tokenizer | None = None,
    prompt: str = "",
    split: Split = "newline",
    prompt_length: int | None = None,
    token_ids: Any = None,
    index: int | None = None,
    model: torch.nn.Module | None = None,
    meta: dict[str, Any] | None = None,
) -> Item:
    r"""Build an Item from a model output of any accepted kind.

    Args:
        output: a string (split into steps), a list of step strings (used as they are), token
            ids (1-D, or 2-D with ``index``), a ``generate`` output with ``sequences`` and
            ``scores`` or ``logits`` (raw ``logits`` are preferred: ``scores`` are after
            temperature, top-k and the like), or a logits tensor ``[T, V]`` / ``[B, T, V]``
            with its ids in ``token_ids``.
        tokenizer: turns ids into text; needed for every input made of ids.
        prompt: the prompt text; when empty, the decoded prompt tokens (if any) are used.
        split: how text becomes steps: ``"newline"``, ``"blank"`` (blank lines), ``"step"``
            (``Step k:`` markers), a regex matching the separator, or a callable returning the
            steps (each must occur in the text, in order).
        prompt_length: how many leading ids are the prompt. For a ``generate`` output it is
            ``len(sequences) - len(scores)`` and is checked if given. For logits as long as the
            ids (a forward pass), token ``t`` is scored by ``logits[t - 1]``, so it is at least
            1 (the default); shorter logits score the last ids, one row each.
        token_ids: the ids scored by a logits ``output``.
        index: which sequence of a batch to take; required when the batch holds more than one.
        model: the model that made the output, for its class, dtype and device in ``meta``.
        meta: more JSON-able facts (e.g. generation settings) merged into the item's meta.

    Raises:
        ValueError: NaN or +inf logits (naming the generation step and token position), an empty
            output, mismatched shapes, ids a tokenizer or the logits cannot hold, a batch
            without ``index``.
        TypeError: an output of no accepted kind.

    >>> to_item("2 + 2 = 4\nSo the answer is 4.").steps
    ['2 + 2 = 4', 'So the answer is 4.']
    """
    if not isinstance(prompt, str):
        raise TypeError(f"the prompt must be a string (the question answered), not {prompt!r}")
    facts: dict[str, Any] = {"split": split if isinstance(split, str) else _split_name(split)}
    if isinstance(output, (list, tuple)) and not output:
        raise ValueError("the output is empty: an empty list")
    if isinstance(output, (list, tuple)) and any(isinstance(s, str) for s in output):
        for number, step in enumerate(output):
            if not isinstance(step, str):
                raise TypeError(f"step {number} is {step!r}: a list of steps holds only strings")
    if isinstance(output, str):
        facts["input"] = "text"
        item = _from_text(prompt, output, split, [])
    elif isinstance(output, (list, tuple)) and output and all(isinstance(s, str) for s in output):
        facts["input"] = "steps"
        steps = [clean_text(s) for s in output]
        if not any(s.strip() for s in steps):
            raise ValueError("the output is empty: every step is blank")
        item = Item(prompt=clean_text(prompt), steps=steps)
    else:
        item = _from_tensors(
            output, tokenizer, prompt, split, prompt_length, token_ids, index, facts
        )
    if model is not None:
        facts.update(_model_facts(model))
    item.meta = {**facts, **(meta or {})}
    return item


def split_spans(text: str, split: Split) -> list[tuple[int, int]]:
    r"""Character spans ``(start, end)`` of the steps in ``text``, whitespace trimmed.

    >>> split_spans("a\n\nb c\n", "newline")
    [(0, 1), (3, 6)]
    """
    if callable(split) and not isinstance(split, re.Pattern):
        spans, start = [], 0
        for number, step in enumerate(split(text)):
            found = text.find(step, start)
            if found < 0:
                raise ValueError(
                    f"the splitter returned step {number} ({step[:40]!r}), which is not in the "
                    "text after the previous step: a splitter must return pieces of the text"
                )
            spans.append((found, found + len(step)))
            start = found + len(step)
    else:
        if isinstance(split, str) and split not in _SEPARATORS:
            raise ValueError(
                f"unknown split {split!r}: use newline, blank, step, a regex or a function"
            )
        separator = _SEPARATORS[split] if isinstance(split, str) else split
        spans, start = [], 0
        for match in separator.finditer(text):
            spans.append((start, match.start()))
            start = max(match.end(), start)
        spans.append((start, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            trimmed.append((start + lead, start + len(piece.rstrip())))
    return trimmed


def _from_text(prompt: str, text: str, split: Split, pieces: list[str]) -> Item:
    """Split ``text`` into steps and give each token (``pieces`` of the text) to a step."""
    spans = split_spans(text, split)
    if not spans:
        raise ValueError("the output is empty: it holds no text but whitespace")
    counts = [0] * len(spans)
    step, offset = 0, 0
    for piece in pieces:
        # A token belongs to the step its first visible character is in (" Step" after a
        # newline starts the next step); a token of whitespace only, to the step before.
        start = offset + len(piece) - len(piece.lstrip()) if piece.strip() else offset
        while step + 1 < len(spans) and start >= spans[step + 1][0]:
            step += 1
        counts[step] += 1
        offset += len(piece)
    return Item(
        prompt=clean_text(prompt),
        steps=[clean_text(text[start:end]) for start, end in spans],
        tokens=[clean_text(piece) for piece in pieces],
        step_token_counts=counts if pieces else [],
    )


def _from_tensors(
    output: Any,
    tokenizer: Tokenizer | None,
    prompt: str,
    split: Split,
    prompt_length: int | None,
    token_ids: Any,
    index: int | None,
    facts: dict[str, Any],
) -> Item:
    import torch

    rows: Sequence[torch.Tensor] | torch.Tensor | None = None
    sequences = getattr(output, "sequences", None)
    if sequences is not None:
        facts["input"] = "generate"
        ids = _one_sequence(torch.as_tensor(sequences), index, "sequences")
        logits, facts["scores_from"] = getattr(output, "logits", None), "logits"
        if logits is None:
            logits, facts["scores_from"] = getattr(output, "scores", None), "scores"
        if logits is None:
            del facts["scores_from"]
            start = prompt_length or 0
        else:
            rows = [_one_row(torch.as_tensor(row), index, step) for step, row in enumerate(logits)]
            if not rows:
                raise ValueError("the output is empty: generate returned no new tokens")
            start = _aligned_start(len(ids), len(rows), prompt_length)
    elif isinstance(output, torch.Tensor) and output.is_floating_point():
        facts["input"] = "logits"
        if token_ids is None:
            _refuse_broken(output)  # broken numerics are the bigger news: ids would not mend them
            raise ValueError("logits need their ids: pass token_ids=… (the ids they score)")
        ids = _one_sequence(torch.as_tensor(token_ids), index, "token_ids")
        if ids.is_floating_point() or ids.dtype == torch.bool:
            raise TypeError(f"token_ids must be integers, not {ids.dtype}")
        if output.dim() == 3:
            output = _one_sequence(output, index, "logits")
        if output.dim() != 2:
            raise ValueError(f"logits must be [T, V] or [B, T, V], not {list(output.shape)}")
        if len(output) == len(ids):
            start = 1 if prompt_length is None else prompt_length
            if start < 1:
                raise ValueError(
                    "forward-pass logits cannot score the first token: prompt_length >= 1"
                )
            rows = output[start - 1 : len(ids) - 1]
        else:
            rows = output
            start = _aligned_start(len(ids), len(output), prompt_length)
    else:
        facts["input"] = "ids"
        try:
            tensor = torch.as_tensor(output)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(
                "expected a string, a list of step strings, token ids, a generate output or "
                f"logits, not {type(output).__name__}"
            ) from exc
        if tensor.is_floating_point() or tensor.dtype == torch.bool:
            raise TypeError(f"token ids must be integers, not {tensor.dtype}")
        ids = _one_sequence(tensor, index, "token ids")
        start = prompt_length or 0
    if not 0 <= start <= len(ids):
        raise ValueError(f"prompt_length {start} does not fit {len(ids)} ids")
    id_list = ids.cpu().tolist()
    output_ids = id_list[start:]
    if not output_ids:
        raise ValueError("the output is empty: there are no tokens after the prompt")
    if tokenizer is None:
        raise ValueError("token ids need a tokenizer to become text: pass tokenizer=…")
    _check_fits(id_list, tokenizer)
    facts.update(prompt_tokens=start, output_tokens=len(output_ids))
    text, pieces = _decode_pieces(tokenizer, output_ids)
    if not prompt and start:
        prompt = tokenizer.decode(id_list[:start])
    item = _from_text(prompt, text, split, pieces)
    if rows is not None:
        vocab = {int(row.shape[-1]) for row in rows}
        if len(vocab) > 1:
            raise ValueError(f"the rows of logits differ in vocabulary size: {sorted(vocab)}")
        too_big = [t for t in output_ids if t >= min(vocab)]
        if too_big:
            raise ValueError(
                f"token id {too_big[0]} is outside the logits' vocabulary of {min(vocab)}: "
                "do the ids and the logits come from the same model?"
            )
        chosen = ids[start:].to(torch.long)
        facts.update(_tensor_facts(rows[0]))
        item.token_logprobs, item.token_entropies = token_scores(rows, chosen, first=start)
    return item


def _refuse_broken(logits: torch.Tensor) -> None:
    """Raise at the first NaN or +inf in ``logits``, naming where it is and what to pass."""
    import torch

    bad = torch.isnan(logits) | torch.isposinf(logits)
    if bool(bad.any()):
        where = [int(i) for i in bad.nonzero()[0]]
        raise ValueError(
            f"the logits hold NaN or +inf (first at index {where}): the model's numerics broke "
            "(check dtype overflow, e.g. fp16). Pass finite logits [T, V] with the ids they "
            "score as token_ids=…"
        )


def _one_sequence(tensor: torch.Tensor, index: int | None, what: str) -> torch.Tensor:
    """One sequence of a batch (``[B, T, …]`` → ``[T, …]``); a lone 1-D sequence as it is."""
    if tensor.dim() == 0:
        raise ValueError(f"{what} must hold a sequence, not a single number")
    if tensor.dim() == 1 or (what == "logits" and tensor.dim() == 2):
        return tensor
    batch = len(tensor)
    if index is None:
        if batch != 1:
            raise ValueError(
                f"{what} holds a batch of {batch} sequences: pick one with index=0…{batch - 1}"
            )
        index = 0
    if not -batch <= index < batch:
        raise ValueError(f"index {index} is outside the batch of {batch}")
    return tensor[index]


def _one_row(row: torch.Tensor, index: int | None, step: int) -> torch.Tensor:
    """The ``[V]`` logits of one sequence at one generation step from a ``[B, V]`` row."""
    if row.dim() != 2:
        raise ValueError(f"scores[{step}] has shape {list(row.shape)}; expected [batch, vocab]")
    return _one_sequence(row, index, f"scores[{step}]")


def _aligned_start(ids: int, rows: int, prompt_length: int | None) -> int:
    """Where the scored ids begin when ``rows`` rows of logits score the last ids."""
    if rows > ids:
        raise ValueError(f"{rows} rows of logits but only {ids} token ids: the shapes do not match")
    start = ids - rows
    if prompt_length is not None and prompt_length != start:
        raise ValueError(
            f"prompt_length is {prompt_length}, but {ids} ids with {rows} scored tokens leave a "
            f"prompt of {start}: the shapes do not match"
        )
    return start


def _check_fits(ids: list[int], tokenizer: Tokenizer) -> None:
    size = len(tokenizer)
    for position, token in enumerate(ids):
        if not 0 <= token < size:
            raise ValueError(
                f"token id {token} at position {position} does not fit the tokenizer "
                f"(vocabulary of {size}): is it the model's own tokenizer?"
            )


def _decode_pieces(tokenizer: Tokenizer, ids: list[int]) -> tuple[str, list[str]]:
    """The decoded text and each token's piece of it (the pieces add up to the text).

    Decoding token by token is exact for most tokenizers; where it is not (SentencePiece drops
    a leading space, byte-level BPE splits a character across tokens), each token's piece is
    what its prefix adds to the decoded text, so offsets always match the full text.
    """
    text = tokenizer.decode(ids)
    pieces = [tokenizer.decode([token]) for token in ids]
    if "".join(pieces) == text:
        return text, pieces
    starts = [0]
    for end in range(1, len(ids)):
        prefix = tokenizer.decode(ids[:end])
        common = len(prefix) if text.startswith(prefix) else _common_prefix(prefix, text)
        starts.append(max(common, starts[-1]))
    starts.append(len(text))
    return text, [text[a:b] for a, b in itertools.pairwise(starts)]


def _common_prefix(a: str, b: str) -> int:
    for n, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return n
    return min(len(a), len(b))


def _tensor_facts(row: torch.Tensor) -> dict[str, Any]:
    return {"dtype": str(row.dtype), "device": str(row.device), "vocab_size": int(row.shape[-1])}


def _split_name(split: re.Pattern[str] | Callable[[str], Sequence[str]]) -> str:
    if isinstance(split, re.Pattern):
        return split.pattern
    return getattr(split, "__qualname__", type(split).__qualname__)


def _model_facts(model: torch.nn.Module) -> dict[str, Any]:
    cls = type(model)
    facts: dict[str, Any] = {"model": f"{cls.__module__}.{cls.__qualname__}"}
    first = next(iter(model.parameters()), None)
    if first is not None:
        facts.update(model_dtype=str(first.dtype), model_device=str(first.device))
    return facts
