"""Rollout generators: many prefixes in, ``n`` completions of each out, batched.

A generator is any ``fn(prompts: list[str], n: int) -> list[list[str]]``. The two here wrap
what people already run: a Hugging Face model (``hf``) and any OpenAI-compatible server such as
vLLM or SGLang (``openai_compatible``, one server or several at once). torch and openai load
only when one is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labwidget.auto._openai import OpenAICompatible
from labwidget.auto.prefix import Generator, Prefix

__all__ = ["HF", "Generator", "OpenAICompatible", "Prefix", "hf", "openai_compatible"]


class HF:
    """A batched rollout generator over a Hugging Face model (see ``hf``)."""

    def __init__(
        self, model: Any, tokenizer: Any, *, batch_size: int, generate_kwargs: dict[str, Any]
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if tokenizer.pad_token_id is None:
            raise ValueError(
                "the tokenizer has no pad token, which batching needs: set "
                "tokenizer.pad_token = tokenizer.eos_token (or add one) first"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.generate_kwargs = {
            "do_sample": True,
            "max_new_tokens": 256,
            "pad_token_id": tokenizer.pad_token_id,
            **generate_kwargs,
        }

    def __str__(self) -> str:
        return f"hf:{type(self.model).__name__}"

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        """``n`` sampled continuations of each prompt, ``batch_size`` prompts per ``generate``."""
        import torch

        device = next(self.model.parameters()).device
        completions: list[list[str]] = []
        with torch.inference_mode():
            for start in range(0, len(prompts), self.batch_size):
                chunk = [str(p) for p in prompts[start : start + self.batch_size]]
                # Left padding: every prompt then ends at the same column, where generation starts.
                encoded = self.tokenizer(
                    chunk, return_tensors="pt", padding=True, padding_side="left"
                ).to(device)
                out = self.model.generate(**encoded, num_return_sequences=n, **self.generate_kwargs)
                sequences = out if isinstance(out, torch.Tensor) else out.sequences
                texts = self.tokenizer.batch_decode(
                    sequences[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True
                )
                # generate returns the n samples of each prompt next to each other.
                completions.extend(texts[i * n : (i + 1) * n] for i in range(len(chunk)))
        return completions


def hf(model: Any, tokenizer: Any, *, batch_size: int = 16, **generate_kwargs: Any) -> HF:
    """A rollout generator over a Hugging Face causal LM (or anything with its ``generate``).

    Prompts are tokenized together with left padding and sent to the model's own device,
    ``batch_size`` prompts (times ``n`` samples) per ``model.generate`` call, under
    ``torch.inference_mode``. Sampling is on (``do_sample=True``, ``max_new_tokens=256``);
    ``generate_kwargs`` override or add to that (temperature, eos_token_id, a stopping
    criterion). For reproducible rollouts, seed torch (``torch.manual_seed``) before the run.

    Args:
        model: the policy that completes solutions, e.g. ``AutoModelForCausalLM``.
        tokenizer: its tokenizer; it needs a pad token.
        batch_size: prompts per ``generate`` call.
        **generate_kwargs: passed to every ``model.generate`` call.
    """
    return HF(model, tokenizer, batch_size=batch_size, generate_kwargs=generate_kwargs)


def openai_compatible(
    base_url: str | Sequence[str],
    model: str,
    *,
    api_key: str = "EMPTY",
    chat: bool = True,
    max_concurrency: int = 16,
    max_tokens: int = 512,
    temperature: float = 1.0,
    timeout_s: float = 600.0,
    max_retries: int = 2,
    **request: Any,
) -> OpenAICompatible:
    """A rollout generator over OpenAI-compatible servers (vLLM, SGLang, …), with ``openai``.

    Each prompt is one request for ``n`` completions. With ``chat=True`` (the default) the
    request goes to ``/chat/completions`` with the question as the user's message and the steps
    so far as an assistant message to continue: ``extra_body`` carries
    ``{"continue_final_message": true, "add_generation_prompt": false}``, which is how vLLM and
    SGLang prefill an answer. With ``chat=False`` the plain prompt text goes to
    ``/completions``. The prefix's seed is sent as ``seed``, so servers that honour it give
    the same rollouts on a re-run.

    Several servers: pass a list of base URLs. Each gets ``max_concurrency`` requests in
    flight at once, drawn from one shared queue, so a faster server takes more of the work.

    Args:
        base_url: e.g. ``"http://gpu1:8000/v1"``, or a list of them.
        model: the model name the server serves.
        api_key: the servers' key (vLLM accepts any unless started with ``--api-key``).
        chat: continue an assistant message through chat completions (True) or complete the
            raw text through completions (False).
        max_concurrency: requests in flight per server.
        max_tokens: the longest completion, in tokens.
        temperature: sampling temperature of every request.
        timeout_s: the longest wait for one request (the ``openai`` client's ``timeout``).
        max_retries: how often the client retries a failed request.
        **request: more fields for every request (``top_p``, ``stop``, ``extra_body`` …).
    """
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    return OpenAICompatible(
        urls,
        model,
        api_key=api_key,
        chat=chat,
        max_concurrency=max_concurrency,
        timeout_s=timeout_s,
        max_retries=max_retries,
        request={"max_tokens": max_tokens, "temperature": temperature, **request},
    )
