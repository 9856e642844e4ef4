"""Judging a PRM on labelled items the way ProcessBench does, and reranking samples with it.

A PRM here is anything that maps stepwise rows ``{prompt, completions}`` to each step's
probability of being correct (``StepScorer`` wraps a Hugging Face model; an API-backed PRM is a
plain function). ``evaluate_prm`` reports, over the labelled paths of a store (the rows
``trl-stepwise`` exports), step accuracy and AUROC against the step labels, and ProcessBench's
earliest-error F1 (``labwidget.metrics``) with each path as one solution: the first step below
``threshold`` is the PRM's earliest error. It reports them for all the paths, per dataset and
per label source.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypedDict

from labwidget.formats._labelings import Labeling
from labwidget.formats.trl import NEUTRAL, branches
from labwidget.metrics import NO_ERROR, earliest_error_f1
from labwidget.store import Store

Scorer = Callable[[Sequence[dict[str, Any]]], Sequence[Sequence[float]]]
AGGREGATES = ("min", "product", "last")


class PRMScore(TypedDict):
    """How well a PRM's step probabilities match the labels.

    ``step_accuracy`` and ``auroc`` are over steps (None without steps, or, for the AUROC,
    without both a correct and a wrong step); ``f1`` and the accuracies on erroneous and on
    correct solutions are ProcessBench's (``metrics.earliest_error_f1``) over solutions.
    """

    steps: int
    step_accuracy: float | None
    auroc: float | None
    solutions: int
    f1: float | None
    erroneous: float | None
    correct: float | None
    n_erroneous: int
    n_correct: int


class PRMReport(TypedDict):
    """``evaluate_prm``'s answer: the scores over every path, per dataset and per source."""

    overall: PRMScore
    datasets: dict[str, PRMScore]
    sources: dict[str, PRMScore]


class Ranked(TypedDict):
    """One solution in ``best_of_n``'s ranking: its index, its score, its steps' scores."""

    index: int
    score: float
    step_scores: list[float]


def auroc(scores: Sequence[float], truth: Sequence[bool]) -> float | None:
    """Area under the ROC curve: the chance that a correct step outscores a wrong one.

    Ties count half (the Mann-Whitney statistic with mid-ranks). None unless both kinds exist.

    >>> auroc([0.9, 0.2, 0.6, 0.6], [True, False, True, False])
    0.875
    """
    n_pos = sum(map(bool, truth))
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0  # of the correct steps, with mid-ranks for runs of equal scores
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        mid = (start + end) / 2 + 1
        rank_sum += mid * sum(1 for i in order[start : end + 1] if truth[i])
        start = end + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def score(
    truth: Sequence[Sequence[bool | None]],
    probabilities: Sequence[Sequence[float]],
    threshold: float = 0.5,
) -> PRMScore:
    """Score step probabilities against labels, solution by solution.

    A step counts as predicted correct when its probability is at least ``threshold``. A
    solution's true earliest error is its first False label (None labels, neutral steps left
    out, are not errors); the predicted one is its first step under ``threshold``, or none.
    A solution scored on fewer steps than it has (cut by a length limit) is judged on those
    steps; if its first error lies past them, it is left out of the F1.

    >>> s = score([[True, False], [True, True], [True, True]], [[0.9, 0.4], [0.8, 0.6], [0.7, 0.2]])
    >>> s["step_accuracy"], s["erroneous"], s["correct"], s["f1"]
    (0.8333333333333334, 1.0, 0.5, 0.6666666666666666)

    Args:
        truth: per solution, each step's label (True: correct; None: not counted).
        probabilities: per solution, each step's probability of being correct.
        threshold: the probability at and above which a step is predicted correct.
    """
    if len(truth) != len(probabilities):
        raise ValueError(f"{len(probabilities)} scored solutions for {len(truth)} labelled ones")
    pairs = [
        (p, label)
        for labels, probs in zip(truth, probabilities, strict=True)
        for p, label in zip(probs, labels, strict=False)
        if label is not None
    ]
    predicted: list[int | None] = []
    actual: list[int] = []
    for labels, probs in zip(truth, probabilities, strict=True):
        if not probs:
            continue
        wrong = [i for i, label in enumerate(labels) if label is False]
        first = wrong[0] if wrong else NO_ERROR
        if first >= len(probs):
            continue
        low = [i for i, p in enumerate(probs) if p < threshold]
        predicted.append(low[0] if low else NO_ERROR)
        actual.append(first)
    f1 = earliest_error_f1(predicted, actual)
    hits = [(p >= threshold) == label for p, label in pairs]
    return {
        "steps": len(pairs),
        "step_accuracy": sum(hits) / len(hits) if hits else None,
        "auroc": auroc([p for p, _ in pairs], [bool(label) for _, label in pairs]),
        "solutions": len(actual),
        **f1,
    }


def evaluate_prm(
    prm: Scorer,
    store: Store,
    *,
    items: Iterable[str] | None = None,
    threshold: float = 0.5,
    neutral: str = "true",
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
) -> PRMReport:
    """Step accuracy, AUROC and ProcessBench's earliest-error F1 of ``prm`` on labelled items.

    Every (item, annotator, label source) with ratings gives the paths ``trl-stepwise`` exports
    (a PRM800K alternative that was not chosen ends a path of its own); each path is one
    solution, scored by ``prm`` in one call.

    Args:
        prm: maps rows ``{prompt, completions}`` to each step's probability of being correct,
            such as a ``StepScorer``.
        store: the store whose labels are the truth.
        items: only these item ids (a held-out set); by default every labelled item.
        threshold: the probability at and above which a step is predicted correct (0.5, as
            ProcessBench reads a 2-way PRM).
        neutral: a 0 rating is ``"true"`` (the default: ProcessBench's first error is the first
            wrong step, and Qwen counts PRM800K's 0 as correct), ``"false"``, or ``"drop"``
            (left out of the step figures, and no error).
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source: ``"human"``, ``"model"`` or ``"auto"`` (any name
            after the colon), or an exact one such as ``"auto:mc"``.

    Returns:
        ``{"overall": …, "datasets": {name: …}, "sources": {source: …}}``, each a ``PRMScore``.

    Raises:
        ValueError: an item in ``items`` is not in the store, or ``neutral`` is unknown.
    """
    if neutral not in NEUTRAL:
        raise ValueError(f"neutral is one of {', '.join(NEUTRAL)}, not {neutral!r}")
    paths = list(_paths(store, items, dataset=dataset, annotator=annotator, source=source))
    rows = [{"prompt": item["prompt"], "completions": steps} for item, _, steps, _ in paths]
    probabilities = [list(p) for p in prm(rows)] if rows else []
    if len(probabilities) != len(rows):
        raise ValueError(f"the PRM scored {len(probabilities)} of {len(rows)} solutions")
    policy = {1: True, -1: False, 0: {"true": True, "false": False, "drop": None}[neutral]}
    truth = [[policy[r] for r in ratings] for _, _, _, ratings in paths]
    groups: dict[str, dict[str, list[int]]] = {"datasets": {}, "sources": {}}
    for index, (item, where, _, _) in enumerate(paths):
        groups["datasets"].setdefault(item["dataset"], []).append(index)
        groups["sources"].setdefault(where, []).append(index)

    def part(indices: list[int]) -> PRMScore:
        return score([truth[i] for i in indices], [probabilities[i] for i in indices], threshold)

    return {
        "overall": score(truth, probabilities, threshold),
        "datasets": {name: part(found) for name, found in sorted(groups["datasets"].items())},
        "sources": {name: part(found) for name, found in sorted(groups["sources"].items())},
    }


def _paths(
    store: Store,
    items: Iterable[str] | None,
    *,
    dataset: str | None,
    annotator: str | None,
    source: str | None,
) -> Iterator[tuple[dict[str, Any], str, list[str], list[int]]]:
    """(item, label source, steps, ratings) per labelled path, in the order labels were given."""
    if isinstance(items, str):
        raise TypeError("items is a list of item ids: put one id in a list")
    found = {item["id"]: item for item in store.items(dataset=dataset)}
    if items is not None:
        wanted = set(items)
        missing = sorted(wanted - found.keys())
        if missing:
            where = f" of dataset {dataset!r}" if dataset is not None else ""
            raise ValueError(f"no items{where} with the ids {', '.join(missing[:3])}")
        found = {key: item for key, item in found.items() if key in wanted}
    folded: dict[tuple[str, str, str], Labeling] = {}
    for event in store.iter_events():
        item = found.get(event["item"])
        if item is None or event["kind"] == "note":
            continue
        if annotator is not None and event["annotator"] != annotator:
            continue
        kind = event["source"]
        if source is not None and kind != source and not kind.startswith(f"{source}:"):
            continue
        key = (item["id"], event["annotator"], kind)
        if key not in folded:
            folded[key] = Labeling(item=item, annotator=event["annotator"])
        folded[key].apply(event)
    for (_, _, kind), labeling in folded.items():
        replacements = {step: event["text"] for step, event in labeling.replacements.items()}
        alternatives = labeling.item["alternatives"]
        for steps, ratings in branches(
            alternatives, labeling.ratings, labeling.choices, replacements
        ):
            yield labeling.item, kind, steps, ratings


def best_of_n(
    prm: Scorer, prompt: str, solutions: Sequence[Sequence[str]], *, aggregate: str = "min"
) -> list[Ranked]:
    """Rerank sampled solutions to one prompt by their PRM score, best first.

    A solution's score aggregates its steps' probabilities: ``"min"`` (the default: a solution
    is as good as its worst step, as Math-Shepherd verifies; it matches the earliest-error view
    of ProcessBench and does not favour short solutions), ``"product"`` (the chance that every
    step is right if the steps were independent, as Let's Verify Step by Step ranks; it favours
    fewer steps) or ``"last"`` (the final step's, an outcome-like reading).

    Best-of-N accuracy alone is a biased measure of a PRM (Zhang et al. 2025, "The Lessons of
    Developing Process Reward Models in Mathematical Reasoning"): samples with a right answer
    but a wrong process count as wins, so a PRM that scores outcomes rather than steps looks
    good. Report it beside ``evaluate_prm``'s step-level figures, never alone.

    >>> def prm(rows):
    ...     return [[0.9, 0.2], [0.7, 0.6]][: len(rows)]
    >>> [(r["index"], r["score"]) for r in best_of_n(prm, "q", [["a", "b"], ["c", "d"]])]
    [(1, 0.6), (0, 0.2)]

    Args:
        prm: maps rows ``{prompt, completions}`` to step probabilities (a ``StepScorer``).
        prompt: the question every solution answers.
        solutions: each solution's steps.
        aggregate: ``"min"``, ``"product"`` or ``"last"``.

    Returns:
        One ``Ranked`` per solution, highest score first (ties keep the sampled order).
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate is one of {', '.join(AGGREGATES)}, not {aggregate!r}")
    for index, steps in enumerate(solutions):
        if not steps:
            raise ValueError(f"solution {index} has no steps to score")
    rows = [{"prompt": prompt, "completions": list(steps)} for steps in solutions]
    scored = [list(p) for p in prm(rows)] if rows else []
    ranked: list[Ranked] = []
    for index, probs in enumerate(scored):
        if not probs:
            raise ValueError(
                f"solution {index} was scored on no step: is it longer than the limit?"
            )
        total = {"min": min(probs), "product": math.prod(probs), "last": probs[-1]}
        ranked.append({"index": index, "score": total[aggregate], "step_scores": probs})
    return sorted(ranked, key=lambda r: -r["score"])
