"""Your PRM picks what people see: its step scores become suggestions and the queue's order.

``suggest`` runs a process reward model over a store's items and keeps each step's probability
as a ``prediction`` event from ``model:<name>``: a suggestion the labeler shows, never a label
a dataset trains on (datasets and exports read ratings). From the same scores it writes each
item's priorities, which ``Store.claim(order=…)`` hands work out by:

- ``uncertainty``: the step probability nearest 0.5 (ActPRM's uncertainty sampling);
- ``convincing_wrong``: the PRM's probability that every step is right (their product), on
  items whose final answer is wrong (PRM800K phase 2's "convincing wrong-answer" solutions);
- ``disagreement``: the largest gap between a step probability and an ``auto:`` label.

``blind_rate`` keeps a share of items (chosen by item id, so every run picks the same ones)
without suggestions, marked in their prediction events: labels there measure how often the
suggestions are wrong without anyone having seen them (``labwidget.agreement`` reports it).
torch loads only when a model is run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from tqdm.auto import tqdm

from labwidget.auto.checkers import Checker, ground_truth, math_answer
from labwidget.store import Store, content_id

StepScorer = Callable[[str, list[str]], Sequence[float]]
# Items read, scored and written per round: one store transaction and one tqdm update each.
CHUNK = 256


class Suggested(TypedDict):
    """What the labeler shows for one item: a suggestion per step, or none on a blind item.

    ``suggestions`` holds ``{"value", "confidence", "source"}`` or None per step (the shape
    ``StepLabeler(suggestions=…)`` takes); ``blind`` says the item is one of those kept
    without suggestions; ``source`` is the model they come from.
    """

    suggestions: list[dict[str, Any] | None]
    blind: bool
    source: str | None


@dataclass
class SuggestSummary:
    """What a ``suggest`` run did: items scored now, already scored before, steps, time."""

    scored: int
    skipped: int
    steps: int
    seconds: float

    def __str__(self) -> str:
        rate = self.scored / self.seconds if self.seconds else 0.0
        return (
            f"suggest: {self.scored} items scored ({self.steps} steps), {self.skipped} already "
            f"scored; {self.seconds:.1f} s ({rate:.1f} items/s)"
        )


def is_blind(item: str, rate: float) -> bool:
    """Whether an item is among the ``rate`` share kept without suggestions (by its id).

    A larger rate keeps the items a smaller one keeps, and more.

    >>> is_blind("c84430d40eefb64066f889f50ff3a018", 0.5), is_blind("z", 0.5)
    (True, False)
    """
    return int(content_id("blind", item)[:8], 16) < rate * 16**8


def priorities(
    probabilities: Sequence[float], auto: Sequence[float | None], wrong: bool | None
) -> dict[str, float | None]:
    """An item's places in the model-ordered queues (lower first; None: not in that order).

    Args:
        probabilities: the PRM's probability that each step is correct.
        auto: each step's ``auto:`` label as a probability (+1: 1.0, 0: 0.5, -1: 0.0), None
            where no machine labeled it.
        wrong: whether the final answer is wrong; None when it cannot be checked.

    >>> priorities([0.5, 0.75, 1.0], [1.0, 0.0, None], True)
    {'uncertainty': 0.0, 'convincing_wrong': -0.375, 'disagreement': -0.75}
    """
    gaps = [abs(p - a) for p, a in zip(probabilities, auto, strict=False) if a is not None]
    return {
        "uncertainty": min((abs(p - 0.5) for p in probabilities), default=None),
        "convincing_wrong": -math.prod(probabilities) if wrong and probabilities else None,
        "disagreement": -max(gaps) if gaps else None,
    }


def suggest(
    store: Store,
    prm: Any,
    tokenizer: Any = None,
    *,
    name: str,
    items: Sequence[str] | None = None,
    dataset: str | None = None,
    version: str | None = None,
    batch_size: int = 16,
    device: Any = None,
    threshold: float = 0.5,
    blind_rate: float = 0.0,
    checker: Checker = math_answer,
    step_separator: str = "\n",
    max_length: int | None = 1024,
    progress: bool = True,
) -> SuggestSummary:
    """Score items' steps with your PRM, keep the scores as suggestions, and order the queue.

    With a tokenizer, ``prm`` is a torch token-classification model (a Hugging Face one, or
    any module whose forward takes ``input_ids`` and ``attention_mask`` and returns logits or
    an output with ``.logits``), scored at the step-separator positions exactly as
    ``StepDataset`` trains it: two classes give softmax[…, 1], one gives its sigmoid. It runs
    in batches under ``torch.inference_mode`` on ``device`` (default: where its parameters
    are); only each item's per-step probabilities leave the device. Without a tokenizer,
    ``prm`` is a function ``fn(prompt, steps) -> one probability per step``.

    Each step gets a ``prediction`` event from ``model:<name>`` (its annotator too): ``score``
    the probability, ``value`` +1 at or above ``threshold`` and -1 below, ``confidence`` the
    probability of that value. Event ids come from the name, ``version``, item and step: a
    re-run skips the items already scored, and a new version (or name) scores them again
    (the newest version's predictions are the current ones). Every item's queue priorities
    are recomputed from its current predictions and ``auto:`` labels, skipped ones too, so
    re-running after ``autolabel`` brings ``disagreement`` up to date.

    Args:
        store: the store whose items to score.
        prm: the model, or a function of (prompt, steps).
        tokenizer: the model's tokenizer; None when ``prm`` is a function.
        name: the model's name: its events' source is ``model:<name>``.
        items: the item ids to score; default every item (of ``dataset``).
        dataset: only items of this dataset.
        version: the model's version, part of the event ids.
        batch_size: items per forward pass.
        device: where the inputs go; default the model's own device.
        threshold: the probability at and above which a step is suggested correct.
        blind_rate: the share of items kept without suggestions (see ``is_blind``).
        checker: ``fn(item, completion) -> bool``, whether the final answer is right, for
            ``convincing_wrong`` (items without a ground truth are left out of that order).
        step_separator: as the ``StepDataset`` the model was trained on.
        max_length: as the ``StepDataset``; steps past it get no prediction.
        progress: show a tqdm bar.
    """
    if not 0.0 <= blind_rate <= 1.0 or not 0.0 < threshold < 1.0 or batch_size < 1:
        raise ValueError("suggest needs 0 <= blind_rate <= 1, 0 < threshold < 1, batch_size >= 1")
    source = f"model:{name}"
    if tokenizer is None:
        if not callable(prm):
            raise TypeError("prm must be a torch model (with a tokenizer) or fn(prompt, steps)")
        score = _function_scores(prm)
    else:
        score = _model_scores(prm, tokenizer, batch_size, device, step_separator, max_length)
    chosen = _items(store, items, dataset)
    started = time.monotonic()
    summary = SuggestSummary(scored=0, skipped=0, steps=0, seconds=0.0)
    bar = tqdm(total=len(chosen), desc=f"suggest {name}", unit="item", disable=not progress)
    try:
        for start in range(0, len(chosen), CHUNK):
            chunk = chosen[start : start + CHUNK]
            ids = {item["id"]: _event_ids(name, version, item) for item in chunk}
            known = store.known_events([e for found in ids.values() for e in found])
            # An item with any prediction of this version was scored (its later steps may
            # have been past max_length, and have none).
            todo = [item for item in chunk if known.isdisjoint(ids[item["id"]])]
            with store.batch() as batch:
                for item, probabilities in zip(todo, score(todo), strict=True):
                    blind = is_blind(item["id"], blind_rate)
                    for step, p in enumerate(probabilities):
                        batch.record(
                            "prediction",
                            item=item["id"],
                            step=step,
                            value=1 if p >= threshold else -1,
                            score=p,
                            confidence=p if p >= threshold else 1.0 - p,
                            source=source,
                            annotator=source,
                            event_id=ids[item["id"]][step],
                            meta=_meta(threshold, version, blind),
                        )
                    summary.steps += len(probabilities)
            store.set_priorities(_chunk_priorities(store, chunk, source, checker))
            summary.scored += len(todo)
            summary.skipped += len(chunk) - len(todo)
            bar.update(len(chunk))
    finally:
        bar.close()
    summary.seconds = time.monotonic() - started
    if progress:
        print(summary)
    return summary


def suggestions(store: Store, item: str, *, model: str | None = None) -> Suggested:
    """The suggestions to show on one item: the current predictions of one model, per step.

    ``model`` is the name given to ``suggest`` (or its ``model:<name>`` source); without it
    the item's only model is used. A blind item (see ``suggest``'s ``blind_rate``) has none.

    Raises:
        ValueError: several models scored the item and ``model`` does not say which.
    """
    steps = len(store.item(item)["steps"])
    wanted = None if model is None else model if model.startswith("model:") else f"model:{model}"
    rows = store.current_steps("prediction", items=[item], source=wanted or "model:", blind=True)
    rows = [row for row in rows if row[2] == 0 and 0 <= row[1] < steps]
    sources = sorted({row[4] for row in rows})
    if len(sources) > 1:
        raise ValueError(
            f"item {item!r} has predictions from {', '.join(sources)}: pass model= to say which"
        )
    shown: list[dict[str, Any] | None] = [None] * steps
    blind = any(row[8] for row in rows)
    if not blind:
        for _, step, _, _, source, value, _, confidence, _, _ in rows:
            shown[step] = {"value": value, "confidence": confidence, "source": source}
    return {"suggestions": shown, "blind": blind, "source": sources[0] if sources else None}


def _meta(threshold: float, version: str | None, blind: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"threshold": threshold}
    if version is not None:
        meta["version"] = version
    if blind:
        meta["blind"] = True
    return meta


def _event_ids(name: str, version: str | None, item: dict[str, Any]) -> list[str]:
    return [content_id("suggest", name, version, item["id"], k) for k in range(len(item["steps"]))]


def _items(store: Store, ids: Sequence[str] | None, dataset: str | None) -> list[dict[str, Any]]:
    if ids is None:
        return store.items(dataset=dataset)
    if isinstance(ids, str):
        raise TypeError("items is a list of item ids, not one id: pass [item_id]")
    found = []
    for item_id in ids:
        try:
            found.append(store.item(item_id))
        except KeyError:
            raise ValueError(f"there is no item {item_id!r} in {store!r}") from None
    return found


def _chunk_priorities(
    store: Store, chunk: list[dict[str, Any]], source: str, checker: Checker
) -> list[dict[str, Any]]:
    """Each item's priorities from its current predictions and auto labels in the store."""
    ids = [item["id"] for item in chunk]
    predicted: dict[str, dict[int, float]] = {}
    for item_id, step, alt, _, _, _, score, *_ in store.current_steps(
        "prediction", items=ids, source=source
    ):
        if alt == 0:
            predicted.setdefault(item_id, {})[step] = score
    auto: dict[tuple[str, int], list[float]] = {}
    for item_id, step, alt, _, _, value, *_ in store.current_steps(
        "rating", items=ids, source="auto:"
    ):
        if alt == 0:
            auto.setdefault((item_id, step), []).append((value + 1) / 2)
    rows = []
    for item in chunk:
        scores = predicted.get(item["id"])
        if not scores:
            continue
        steps = sorted(scores)
        probabilities = [scores[k] for k in steps]
        # Against each machine's label: the widest gap is the one worth a person's look.
        widest = [_widest(scores[k], auto.get((item["id"], k), [])) for k in steps]
        rows.append(
            {
                "item": item["id"],
                **priorities(probabilities, widest, _wrong(item, checker)),
                "scored_by": source,
            }
        )
    return rows


def _widest(p: float, labels: list[float]) -> float | None:
    """The machine label farthest from the probability ``p``, or None without any."""
    return max(labels, key=lambda label: abs(p - label), default=None)


def _wrong(item: dict[str, Any], checker: Checker) -> bool | None:
    """Whether the item's final answer is wrong; None without a ground truth to check it by."""
    try:
        ground_truth(item)
    except ValueError:
        return None
    return not checker(item, "\n".join(item["steps"]))


def _function_scores(fn: StepScorer) -> Callable[[list[dict[str, Any]]], list[list[float]]]:
    def score(chunk: list[dict[str, Any]]) -> list[list[float]]:
        out = []
        for item in chunk:
            found = [float(p) for p in fn(item["prompt"], list(item["steps"]))]
            if len(found) != len(item["steps"]) or not all(0.0 <= p <= 1.0 for p in found):
                raise ValueError(
                    f"the scorer gave {found!r:.80} for item {item['id']!r}: it must return one "
                    f"probability in [0, 1] per step ({len(item['steps'])} steps)"
                )
            out.append(found)
        return out

    return score


def _model_scores(
    prm: Any,
    tokenizer: Any,
    batch_size: int,
    device: Any,
    step_separator: str,
    max_length: int | None,
) -> Callable[[list[dict[str, Any]]], list[list[float]]]:
    from labwidget.scorer import StepScorer

    scorer = StepScorer(
        prm,
        tokenizer,
        step_separator=step_separator,
        max_length=max_length,
        batch_size=batch_size,
        device=device,
    )

    def score(chunk: list[dict[str, Any]]) -> list[list[float]]:
        return scorer([{"prompt": item["prompt"], "completions": item["steps"]} for item in chunk])

    return score
