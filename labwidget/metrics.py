"""ProcessBench's earliest-error F1: how well a labeler finds the first wrong step of a solution.

ProcessBench (Zheng et al., 2024) scores a step labeler by the index of the first wrong step it
names in each solution (or "none" for a solution it finds correct). Accuracy is taken apart on
the solutions that have an error (the first wrong step named exactly) and on those that have
none (no error named); the F1 is the harmonic mean of the two, so a labeler that calls every
solution correct, or every one wrong, scores 0. Automatic labels, agreement between people and
PRM evaluation all report it, from this one module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

NO_ERROR = -1


class EarliestErrorScore(TypedDict):
    """Accuracy on erroneous and on correct solutions, their harmonic mean, and the counts.

    An accuracy is None when there is no solution of that kind; the F1 is None unless both are
    known.
    """

    erroneous: float | None
    correct: float | None
    f1: float | None
    n_erroneous: int
    n_correct: int


def first_error(ratings: Sequence[int | None]) -> int | None:
    """The index of the first step rated −1; ``NO_ERROR`` (−1) when every step is rated.

    None when it cannot be told: no step is rated −1 and some step has no rating (an unlabeled
    step might hide the error).

    >>> first_error([1, 1, -1, None]), first_error([1, 0, 1]), first_error([1, None])
    (2, -1, None)
    """
    for index, rating in enumerate(ratings):
        if rating == -1:
            return index
    return NO_ERROR if all(rating is not None for rating in ratings) else None


def earliest_error_f1(predicted: Sequence[int | None], truth: Sequence[int]) -> EarliestErrorScore:
    """Score predicted first errors against the true ones, solution by solution.

    Args:
        predicted: per solution, the index of the first wrong step a labeler names, ``NO_ERROR``
            (−1) for "no error", or None when it named nothing (counted as a miss).
        truth: per solution, the true first wrong step, or ``NO_ERROR``.

    >>> earliest_error_f1([2, -1, 0, -1], [2, -1, 1, 0])
    {'erroneous': 0.3333333333333333, 'correct': 1.0, 'f1': 0.5, 'n_erroneous': 3, 'n_correct': 1}
    """
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} solutions")
    hits = {True: 0, False: 0}
    counts = {True: 0, False: 0}
    for guess, actual in zip(predicted, truth, strict=True):
        if actual is None or actual < NO_ERROR:
            raise ValueError(f"a true first error is a step index or -1, not {actual!r}")
        erroneous = actual != NO_ERROR
        counts[erroneous] += 1
        hits[erroneous] += guess == actual
    erroneous_acc = hits[True] / counts[True] if counts[True] else None
    correct_acc = hits[False] / counts[False] if counts[False] else None
    f1 = None
    if erroneous_acc is not None and correct_acc is not None:
        both = erroneous_acc + correct_acc
        f1 = 2 * erroneous_acc * correct_acc / both if both else 0.0
    return {
        "erroneous": erroneous_acc,
        "correct": correct_acc,
        "f1": f1,
        "n_erroneous": counts[True],
        "n_correct": counts[False],
    }
