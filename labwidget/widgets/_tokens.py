"""A step labeler's token heatmap: its traits from what the caller passed, or from the store.

The page gets the tokens and their float32 scores as binary buffers (``_buffers``), with the
count of tokens in each step, what the scores are (``score_kind``) and, in words, under which
distribution they were computed (``score_about``, the heatmap's caption). The same scores are
kept with the item in the store, so an item reopened later (from a queue, or the same output
labeled again) shows the same heatmap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labwidget.store import SCORE_KINDS, Store
from labwidget.widgets._buffers import check_token_layout, pack_float32, pack_strings

# What the traits hold for an item without token scores: no heatmap.
NO_TOKENS: dict[str, Any] = {
    "tokens": {},
    "token_scores": {},
    "step_token_counts": [],
    "score_kind": "logprob",
    "score_about": "",
}


def token_traits(
    tokens: Sequence[str],
    token_scores: Any,
    step_token_counts: Sequence[int],
    *,
    steps: int,
    score_kind: str,
    score_about: str = "",
) -> dict[str, Any]:
    """The heatmap's traits, after checking that tokens, scores and steps add up.

    Raises:
        TypeError: tokens that are not a list of strings, scores that are not floats.
        ValueError: tokens without scores or the other way round, NaN or infinite scores, an
            unknown ``score_kind``, or counts that do not add up to the tokens and the steps.
    """
    if isinstance(tokens, str):
        raise TypeError("tokens is one string; pass the list of the output's token strings")
    if token_scores is None:
        raise ValueError("tokens=… need token_scores=…: one float per token")
    if not tokens:
        raise ValueError("token_scores=… need tokens=…: the token strings they score")
    if score_kind not in SCORE_KINDS:
        raise ValueError(f"score_kind is one of {', '.join(SCORE_KINDS)}, not {score_kind!r}")
    packed_tokens = pack_strings(tokens)
    packed = pack_float32(token_scores)
    counts = list(step_token_counts)
    check_token_layout(list(tokens), packed["shape"][0], counts)
    if len(counts) != steps:
        raise ValueError(
            f"step_token_counts has {len(counts)} entries for {steps} steps: one count per step"
        )
    return {
        "tokens": packed_tokens,
        "token_scores": packed,
        "step_token_counts": counts,
        "score_kind": score_kind,
        "score_about": score_about,
    }


def stored_token_traits(store: Store, item: str) -> dict[str, Any]:
    """The heatmap's traits from the token scores kept with ``item``, or ``NO_TOKENS``."""
    kept = store.token_scores(item)
    if kept is None:
        return NO_TOKENS
    about = kept["meta"].get("about") if isinstance(kept["meta"], dict) else None
    return token_traits(
        kept["tokens"],
        kept["scores"],
        kept["step_token_counts"],
        steps=len(kept["step_token_counts"]),
        score_kind=kept["kind"],
        score_about=about if isinstance(about, str) else "",
    )
