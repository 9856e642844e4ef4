"""Per-token scores kept with their item: packed to compact binary, checked going in and out.

A model output's tokens and their scores (log-probs, entropies, a model's own scores) are what
its heatmap shows. They are stored once per item, as two binary values instead of JSON lists:
the tokens as UTF-8 with a NUL between them, the scores as little-endian float32, 4 bytes a
token, so the numbers read back are bit for bit the float32 values that were shown.
"""

from __future__ import annotations

import logging
import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from labwidget.store._errors import LabelError
from labwidget.store._events import clean_text, iso, utcnow
from labwidget.store.schema import SCORE_KINDS, token_scores

log = logging.getLogger("labwidget.store")


def row(
    item: str,
    tokens: Sequence[str],
    scores: Sequence[float],
    step_token_counts: Sequence[int],
    *,
    steps: int,
    kind: str,
    meta: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``token_scores`` row for ``item`` (of ``steps`` steps), after checking it all adds up.

    Raises:
        LabelError: a kind that is not one of ``SCORE_KINDS``, a token that is not a string, a
            score that is not a finite float32, or lengths that do not add up.
    """
    if kind not in SCORE_KINDS:
        raise LabelError(f"token scores are one of {', '.join(SCORE_KINDS)}, not {kind!r}")
    # By type, not token by token: an output has up to 100k tokens.
    if isinstance(tokens, str) or not set(map(type, tokens)) <= {str}:
        raise LabelError("tokens must be a list of strings")
    packed = _float32(scores)
    if len(packed) != len(tokens):
        raise LabelError(f"{len(tokens)} tokens but {len(packed)} scores: one score per token")
    counts = list(step_token_counts)
    if len(counts) != steps:
        raise LabelError(f"{len(counts)} step token counts for the item's {steps} steps")
    if not all(_count(n) for n in counts) or sum(counts) != len(tokens):
        raise LabelError(f"the step token counts must be ints >= 0 adding up to {len(tokens)}")
    if sys.byteorder == "big":
        packed.byteswap()
    return {
        "item_id": item,
        "kind": kind,
        "tokens": _joined(tokens),
        "scores": packed.tobytes(),
        "step_token_counts": counts,
        "meta": meta or {},
        "created_at": utcnow(),
    }


def _joined(tokens: Sequence[str]) -> bytes:
    """The tokens as UTF-8 with a NUL between them, each cleaned as ``clean_text`` cleans.

    Usually no token holds NUL or a lone surrogate: checking the whole once is several times
    faster than cleaning 100k tokens one by one.
    """
    joined = "\x00".join(tokens)
    if joined.count("\x00") == max(len(tokens) - 1, 0):
        try:
            return joined.encode("utf-8")  # strict: fails on a lone surrogate
        except UnicodeEncodeError:
            pass
    return "\x00".join(map(clean_text, tokens)).encode("utf-8")


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _float32(scores: Sequence[float]) -> array[float]:
    """The scores as float32, refusing NaN, infinity and what float32 cannot hold."""
    if isinstance(scores, str | bytes) or not isinstance(scores, Sequence):
        raise LabelError(f"scores must be a sequence of floats, not {type(scores).__name__}")
    try:
        packed = array("f", scores)
    except (TypeError, OverflowError) as exc:
        raise LabelError(f"scores must be floats: {exc}") from exc
    # Any NaN or infinity (also a value too big for float32) makes the sum non-finite.
    if not math.isfinite(sum(packed)):
        bad = next(i for i, value in enumerate(packed) if not math.isfinite(value))
        raise LabelError(f"score {bad} is {scores[bad]}: token scores must be finite float32")
    return packed


def read(connection: sa.Connection, item: str) -> dict[str, Any] | None:
    """The token scores stored with ``item`` as plain lists, or None when there are none.

    A row that does not add up (written around the store, say) is skipped with a warning
    naming it, never shown half-read.
    """
    found = connection.execute(sa.select(token_scores).where(token_scores.c.item_id == item))
    stored = found.mappings().first()
    if stored is None:
        return None
    try:
        return _decoded(stored)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        log.warning("skipped the token scores of item %s, which do not add up: %s", item, exc)
        return None


def _decoded(stored: Any) -> dict[str, Any]:
    data, counts = bytes(stored["scores"]), stored["step_token_counts"]
    if len(data) % 4:
        raise ValueError(f"{len(data)} bytes of scores are not whole float32 values")
    scores = array("f", data)
    if sys.byteorder == "big":
        scores.byteswap()
    text = bytes(stored["tokens"]).decode("utf-8")
    tokens = text.split("\x00") if scores else []
    if len(tokens) != len(scores):
        raise ValueError(f"{len(tokens)} tokens but {len(scores)} scores")
    if not isinstance(counts, list) or not all(map(_count, counts)) or sum(counts) != len(tokens):
        raise ValueError(f"step token counts that do not add up to {len(tokens)} tokens")
    if not math.isfinite(sum(scores)):
        raise ValueError("a score is NaN or infinite")
    return {
        "item": stored["item_id"],
        "kind": stored["kind"],
        "tokens": tokens,
        "scores": scores.tolist(),
        "step_token_counts": counts,
        "meta": stored["meta"],
        "created_at": iso(stored["created_at"]),
    }
