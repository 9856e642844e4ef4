"""Per-token scores from logits, and what they are: log-probs and entropies, and under what.

A log-prob means little without its distribution. ``generate``'s ``scores`` are the logits
after its processors (temperature, top-k, top-p, repetition penalty …): the distribution the
tokens were sampled from. Its ``logits`` (``output_logits=True``) and a forward pass's are the
model's raw logits. ``about`` says which, in words the heatmap shows as its caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

# Rows of logits scored at once: bounds the device memory of the float32 copy.
_CHUNK = 64

_UNDER = {
    "sampling": "under the sampling distribution (generate's scores: after temperature, top-k, "
    "top-p); output_logits=True gives the raw logits",
    "raw": "under the model's raw logits (output_logits=True: before temperature, top-k, top-p)",
    "forward": "under the raw logits of a forward pass",
}
_WHAT = {
    "logprob": "log-prob of each token",
    "entropy": "entropy of the distribution at each token",
}


def about(meta: dict[str, Any], kind: str) -> dict[str, str]:
    """What an item's token scores are: ``{"distribution", "about"}``, from its ``to_item`` meta.

    ``distribution`` is ``sampling`` (generate's processed ``scores``), ``raw`` (its
    ``logits``) or ``forward`` (logits of a forward pass); ``about`` says it in words.

    >>> about({"input": "generate", "scores_from": "logits"}, "logprob")["distribution"]
    'raw'
    >>> about({"input": "logits"}, "logprob")["about"]
    'log-prob of each token under the raw logits of a forward pass'
    """
    if meta.get("input") == "logits":
        distribution = "forward"
    else:
        distribution = "raw" if meta.get("scores_from") == "logits" else "sampling"
    return {"distribution": distribution, "about": f"{_WHAT[kind]} {_UNDER[distribution]}"}


def token_scores(
    rows: Sequence[torch.Tensor] | torch.Tensor, chosen: torch.Tensor, *, first: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-prob of each chosen token and entropy of each distribution, as float32 CPU vectors.

    ``rows[i]`` are the logits (``[V]``) that chose ``chosen[i]``. The work happens on the rows'
    device in chunks; only the two 1-D results travel to the CPU. ``-inf`` logits (tokens masked
    by top-k or top-p) are allowed; NaN and ``+inf`` are not, nor a chosen token of probability 0.

    >>> import torch
    >>> lp, ent = token_scores(torch.zeros(1, 4), torch.tensor([2]))
    >>> round(lp.item(), 4), round(ent.item(), 4)  # ln(1/4), ln 4
    (-1.3863, 1.3863)
    """
    import torch

    if len(rows) != len(chosen):
        raise ValueError(f"{len(rows)} rows of logits for {len(chosen)} tokens")
    logprobs, entropies, bad = [], [], []
    with torch.no_grad():
        for begin in range(0, len(rows), _CHUNK):
            part = rows[begin : begin + _CHUNK]
            block = part if isinstance(part, torch.Tensor) else torch.stack(list(part))
            block = block.detach().float()
            bad.append(torch.isnan(block).any(-1) | torch.isposinf(block).any(-1))
            logp = torch.log_softmax(block, dim=-1)
            ids = chosen[begin : begin + _CHUNK].to(block.device)
            logprobs.append(logp.gather(-1, ids[:, None]).squeeze(-1))
            p = logp.exp()
            entropies.append(-torch.where(p > 0, p * logp, torch.zeros_like(p)).sum(-1))
        flags = torch.cat(bad).cpu()
        lp = torch.cat(logprobs).float().cpu()
        ent = torch.cat(entropies).float().cpu()
    if bool(flags.any()):
        step = int(flags.nonzero()[0])
        raise ValueError(
            f"the logits at generation step {step} (token position {first + step}) hold NaN or "
            "+inf: the model's numerics broke (check dtype overflow, e.g. fp16)"
        )
    if not bool(torch.isfinite(lp).all()):
        step = int((~torch.isfinite(lp)).nonzero()[0])
        raise ValueError(
            f"the token chosen at generation step {step} (token position {first + step}) has "
            "probability 0 under its logits (every logit, or the chosen one, is -inf)"
        )
    return lp, ent
