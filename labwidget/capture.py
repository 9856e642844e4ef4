"""Torch integration: label a model output in one call, or capture outputs while code runs."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from labwidget._logprobs import about
from labwidget.render import Item, Split, Tokenizer, to_item
from labwidget.store import Store
from labwidget.widgets.steps import StepLabeler

if TYPE_CHECKING:
    import torch

__all__ = ["Capture", "capture", "label"]

logger = logging.getLogger(__name__)

# Generation settings worth keeping in an item's meta: plain values only.
_PLAIN = (bool, int, float, str, type(None))


def label(
    output: Any,
    *,
    tokenizer: Tokenizer | None = None,
    prompt: str = "",
    store: Store | None = None,
    split: Split = "newline",
    score: str = "logprob",
    dataset: str = "default",
    prompt_length: int | None = None,
    token_ids: Any = None,
    index: int | None = None,
    model: torch.nn.Module | None = None,
    meta: dict[str, Any] | None = None,
    **labeler_kwargs: Any,
) -> StepLabeler:
    """Show a model output in a StepLabeler: steps to label, tokens coloured by log-prob.

    Takes every output ``to_item`` takes (text, steps, ids, a ``generate`` output, logits).
    The token scores are kept with the item in the store, so the item shows its heatmap when
    it is opened again (``StepLabeler(store=store, queue=[item_id])``). The heatmap's caption
    says what they are: log-probs under the sampling distribution (``generate``'s ``scores``,
    after temperature, top-k and top-p) or under the raw logits (``output_logits=True``, or
    a forward pass).

    Args:
        output: the model output; see ``labwidget.render.to_item``.
        tokenizer: turns ids into text; needed for every input made of ids.
        prompt: the prompt; when empty, the decoded prompt tokens (if any).
        store: where labels go; a SQLite file ``labels.db`` in the working directory if None.
        split: how text becomes steps (``"newline"``, ``"blank"``, ``"step"``, a regex, a
            function).
        score: which token score the heatmap shows: ``"logprob"`` or ``"entropy"``.
        dataset: the item's dataset in the store.
        prompt_length: see ``to_item``.
        token_ids: the ids scored by a logits ``output``.
        index: which sequence of a batch to show.
        model: the model, recorded in the item's meta.
        meta: more facts for the item's meta.
        **labeler_kwargs: passed on to ``StepLabeler`` (``source``, ``suggestions``).
    """
    if score not in ("logprob", "entropy"):
        raise ValueError(f"score must be 'logprob' or 'entropy', not {score!r}")
    item = to_item(
        output,
        tokenizer=tokenizer,
        prompt=prompt,
        split=split,
        prompt_length=prompt_length,
        token_ids=token_ids,
        index=index,
        model=model,
        meta=meta,
    )
    scores = item.token_logprobs if score == "logprob" else item.token_entropies
    return StepLabeler(
        prompt=item.prompt,
        steps=item.steps,
        store=store if store is not None else Store("labels.db"),
        dataset=dataset,
        meta=item.meta,
        tokens=item.tokens if scores is not None else (),
        token_scores=scores,
        step_token_counts=item.step_token_counts if scores is not None else (),
        score_kind=score,
        score_meta=about(item.meta, score) if scores is not None else None,
        **labeler_kwargs,
    )


class Capture:
    """Records a sample of a model's outputs into a store while the ``with`` block runs.

    Made by ``capture()``; each recorded item keeps its tokens' log-probs (see
    ``Store.token_scores``) when the output carried logits. The counts say what happened:
    ``seen`` outputs, ``recorded`` items, ``skipped`` outputs (not sampled or filtered out),
    ``failed`` recordings (logged as warnings on the ``labwidget.capture`` logger, never
    raised; the last few messages are in ``errors``).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        tokenizer: Tokenizer | None,
        store: Store,
        every: int | None,
        sample: float | None,
        filter: Callable[[Item], bool] | None,
        forward: bool,
        prompt_from: Callable[[tuple[Any, ...], dict[str, Any]], str] | None,
        dataset: str,
        split: Split,
        seed: int | None,
    ) -> None:
        if every is not None and sample is not None:
            raise TypeError("give every=N or sample=p, not both")
        if every is not None and (isinstance(every, bool) or every < 1):
            raise ValueError(f"every must be a whole number >= 1, not {every!r}")
        if sample is not None and not 0.0 <= sample <= 1.0:
            raise ValueError(f"sample must be a probability in [0, 1], not {sample!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.store = store
        self.every = every
        self.sample = sample
        self.filter = filter
        self.forward = forward
        self.prompt_from = prompt_from
        self.dataset = dataset
        self.split = split
        self.seen = 0
        self.recorded = 0
        self.skipped = 0
        self.failed = 0
        self.errors: list[str] = []
        self._rng = random.Random(seed)
        self._generating = 0
        self._undo: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return (
            f"Capture(seen={self.seen}, recorded={self.recorded}, skipped={self.skipped}, "
            f"failed={self.failed})"
        )

    def __enter__(self) -> Capture:
        if self._undo:
            raise RuntimeError("this capture is already active")
        try:
            self._patch_generate()
            if self.forward:
                handle = self.model.register_forward_hook(self._on_forward, with_kwargs=True)
                self._undo.append(handle.remove)
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._remove()

    def _remove(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _patch_generate(self) -> None:
        model = self.model
        own = model.__dict__.get("generate")
        try:
            original: Callable[..., Any] = model.generate  # type: ignore[assignment]
        except AttributeError:
            if self.forward:
                return  # a model without generate (a reward model, say): forward passes only
            raise TypeError(
                f"{type(model).__name__} has no generate method: capture its forward passes "
                "with forward=True"
            ) from None
        seen_generate = self._on_generate

        def generate(*args: Any, **kwargs: Any) -> Any:
            self._generating += 1
            try:
                result = original(*args, **kwargs)
            finally:
                self._generating -= 1
            seen_generate(result, args, kwargs)
            return result

        def restore() -> None:
            if own is None:
                model.__dict__.pop("generate", None)
            else:
                model.__dict__["generate"] = own

        model.__dict__["generate"] = generate
        self._undo.append(restore)

    def _sampled(self) -> bool:
        """Count one output and say whether it is to be recorded (every Nth, or with odds p)."""
        self.seen += 1
        if self.sample is not None:
            return self._rng.random() < self.sample
        return (self.seen - 1) % (self.every or 1) == 0

    def _on_generate(self, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._sampled():
            self.skipped += 1
            return
        try:
            import torch

            inputs = kwargs.get("input_ids", kwargs.get("inputs", args[0] if args else None))
            settings = {k: v for k, v in kwargs.items() if isinstance(v, _PLAIN)}
            prompt_length = None
            if isinstance(result, torch.Tensor) and isinstance(inputs, torch.Tensor):
                # A bare tensor from a decoder-only model repeats the prompt; an encoder-decoder's
                # does not.
                length = inputs.shape[-1]
                head = result[..., :length]
                same = head.shape == inputs.shape and torch.equal(head, inputs)
                prompt_length = length if same else 0
            sequences = torch.as_tensor(getattr(result, "sequences", result))
            self._record(
                result, sequences, args, kwargs, prompt_length=prompt_length, meta=settings
            )
        except Exception as exc:  # a failed recording must not stop training
            self._failed(exc)

    def _on_forward(
        self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any
    ) -> None:
        if self._generating:
            return  # generate's own forward passes are recorded as its output
        if not self._sampled():
            self.skipped += 1
            return
        try:
            import torch

            ids = torch.as_tensor(kwargs.get("input_ids", args[0] if args else None))
            logits = getattr(output, "logits", output)
            self._record(logits, ids, args, kwargs, token_ids=ids, meta={"capture": "forward"})
        except Exception as exc:  # a failed recording must not stop training
            self._failed(exc)

    def _record(
        self,
        output: Any,
        sequences: torch.Tensor,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        **options: Any,
    ) -> None:
        prompt = self.prompt_from(args, kwargs) if self.prompt_from else ""
        batch = sequences.shape[0] if sequences.dim() > 1 else 1
        recorded = False
        for index in range(batch):
            item = to_item(
                output,
                tokenizer=self.tokenizer,
                prompt=prompt,
                split=self.split,
                index=index if batch > 1 else None,
                model=self.model,
                **options,
            )
            if self.filter is not None and not self.filter(item):
                continue
            with self.store.batch() as writes:
                item_id = writes.add_item(
                    item.prompt, item.steps, dataset=self.dataset, meta=item.meta, source="capture"
                )
                if item.token_logprobs is not None:
                    writes.add_token_scores(
                        item_id,
                        item.tokens,
                        item.token_logprobs.tolist(),
                        item.step_token_counts,
                        kind="logprob",
                        meta=about(item.meta, "logprob"),
                    )
            self.recorded += 1
            recorded = True
        if not recorded:
            self.skipped += 1

    def _failed(self, exc: Exception) -> None:
        self.failed += 1
        message = f"{type(exc).__name__}: {exc}"
        self.errors = [*self.errors[-9:], message]
        logger.warning("labwidget.capture could not record an output: %s", message)


def capture(
    model: torch.nn.Module,
    *,
    tokenizer: Tokenizer | None = None,
    store: Store,
    every: int | None = None,
    sample: float | None = None,
    filter: Callable[[Item], bool] | None = None,
    forward: bool = False,
    prompt_from: Callable[[tuple[Any, ...], dict[str, Any]], str] | None = None,
    dataset: str = "captured",
    split: Split = "newline",
    seed: int | None = None,
) -> Capture:
    """Record a sample of ``model.generate`` outputs (and forward passes) into ``store``.

    Use as ``with capture(model, tokenizer=tok, store=store, every=100) as seen: train()``.
    Results are returned untouched (the very same objects); recording errors are logged, never
    raised; ``model.generate`` and every hook are restored on exit, also after an exception.
    Each recorded sequence becomes an item (steps and meta with generation settings) with its
    tokens' log-probs kept beside it (``Store.token_scores``: float32, and under which
    distribution), so the item shows its heatmap whenever it is opened.

    Args:
        model: a torch module with a ``generate`` method (e.g. a Hugging Face model).
        tokenizer: turns ids into text.
        store: where items go.
        every: record the 1st, (N+1)th, (2N+1)th … output. With neither ``every`` nor
            ``sample``, every output is recorded.
        sample: record each output with probability ``p`` (``seed`` makes it repeatable).
        filter: record only items for which it returns True (called after sampling).
        forward: also record forward passes outside ``generate`` (their logits and ids).
        prompt_from: makes the prompt text from ``generate``'s ``(args, kwargs)``; by default
            the decoded prompt tokens.
        dataset: the dataset captured items go in.
        split: how output text becomes steps.
        seed: seeds the sampling.
    """
    return Capture(
        model,
        tokenizer=tokenizer,
        store=store,
        every=every,
        sample=sample,
        filter=filter,
        forward=forward,
        prompt_from=prompt_from,
        dataset=dataset,
        split=split,
        seed=seed,
    )
