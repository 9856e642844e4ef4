"""Agreement arithmetic over current ratings: units, Krippendorff's α, Cohen's κ, first errors.

The rating events arrive as tuples from ``Store.step_history``; they are indexed once into numpy
arrays (a unit is one alternative at one step of one item), and each figure is a few array
operations away from them. The formulas are the libraries': ``krippendorff.alpha`` (given the
value counts per unit) and scikit-learn's ``cohen_kappa_score``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from labwidget.metrics import NO_ERROR, earliest_error_f1

LEVELS = (-1, 0, 1)
MISSING = 9  # an int8 rating matrix's empty cell, and a cleared rating in Store.step_history
# Every (a, b) pair of ratings: kappa is computed over these nine, weighted by their counts.
PAIRS = np.array([(a, b) for a in LEVELS for b in LEVELS])


def pair_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How often each of ``PAIRS`` occurs among the ratings ``a[k], b[k]``.

    >>> pair_counts(np.array([1, 1, -1]), np.array([1, 0, -1])).tolist()
    [1, 0, 0, 0, 0, 0, 0, 1, 1]
    """
    return np.bincount((a.astype(np.int64) + 1) * 3 + b + 1, minlength=9)


class Units:
    """Current ratings indexed by unit (item, step, alternative) and annotator, as arrays.

    Built from the events in any order: the newest (largest ``seq``) per (unit, annotator)
    is the current rating, found by one sort; a cleared rating (value ``MISSING``, as
    ``Store.step_history`` gives it) leaves none.
    """

    def __init__(self, history: Sequence[tuple[Any, ...]], shapes: dict[str, tuple[str, int]]):
        n = len(history)

        def column(k: int) -> Iterator[Any]:
            return map(itemgetter(k), history)  # C-level, unlike zip(*history) on 1M rows

        def numbers(k: int) -> np.ndarray:
            return np.fromiter(column(k), np.int64, n)

        # Codes for items and annotators in order of first sight, through C-level dict work.
        self.items = list(dict.fromkeys(column(0)))
        self.annotators = list(dict.fromkeys(column(3)))
        self._item_at = {item: code for code, item in enumerate(self.items)}
        who_at = {who: code for code, who in enumerate(self.annotators)}
        self.sources: dict[str, str] = dict(zip(column(3), column(4), strict=True))
        item_code = np.fromiter(map(self._item_at.__getitem__, column(0)), np.int64, n)
        who_code = np.fromiter(map(who_at.__getitem__, column(3)), np.int64, n)
        steps, alts, values, seqs = numbers(1), numbers(2), numbers(5), numbers(6)
        # One integer per unit, and per (unit, annotator): sortable keys instead of tuples.
        self._width = (int(steps.max(initial=0)) + 1, int(alts.max(initial=0)) + 1)
        unit_key = self._unit_key(item_code, steps, alts)
        rated_key = unit_key * max(len(self.annotators), 1) + who_code
        order = np.lexsort((seqs, rated_key))
        last = np.ones(n, dtype=bool)
        last[:-1] = rated_key[order][1:] != rated_key[order][:-1]
        newest = order[last]
        newest = newest[values[newest] != MISSING]
        self.unit_keys, self.row_unit = np.unique(unit_key[newest], return_inverse=True)
        self.row_who = who_code[newest]
        self.row_value = values[newest]
        self.unit_item, rest = np.divmod(self.unit_keys, self._width[0] * self._width[1])
        self.unit_step, self.unit_alt = np.divmod(rest, self._width[1])
        self.item_steps = np.array([shapes[i][1] if i in shapes else 0 for i in self.items])
        self.item_dataset = [shapes[i][0] if i in shapes else "" for i in self.items]

    def _unit_key(self, items: np.ndarray, steps: np.ndarray, alts: np.ndarray) -> np.ndarray:
        keys: np.ndarray = (items * self._width[0] + steps) * self._width[1] + alts
        return keys

    def unit_of(self, item: str, step: int, alt: int) -> int | None:
        """The index of a unit somebody rated, or None."""
        code = self._item_at.get(item)
        if code is None or step >= self._width[0] or alt >= self._width[1]:
            return None
        key = (code * self._width[0] + step) * self._width[1] + alt
        at = int(np.searchsorted(self.unit_keys, key))
        return at if at < len(self.unit_keys) and self.unit_keys[at] == key else None

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Per unit, how many of ``rows`` (a mask over the ratings) gave -1, 0 and +1."""
        return value_counts(self.row_unit[rows], self.row_value[rows], len(self.unit_item), LEVELS)


def value_counts(
    units: np.ndarray, values: np.ndarray, n_units: int, domain: Sequence[int]
) -> np.ndarray:
    """How many labels of each value in ``domain`` each unit got: what ``krippendorff`` takes.

    >>> value_counts(np.array([0, 0, 1]), np.array([1, -1, 1]), 2, (-1, 0, 1)).tolist()
    [[1, 0, 1], [0, 0, 1]]
    """
    index = np.searchsorted(np.asarray(domain), values)
    flat = units * len(domain) + index
    return np.bincount(flat, minlength=n_units * len(domain)).reshape(n_units, len(domain))


def _krippendorff() -> Any:
    try:
        import krippendorff
    except ImportError as exc:
        raise ImportError(
            "agreement needs krippendorff and scikit-learn: pip install 'labwidget[agreement]'"
        ) from exc
    return krippendorff


def alpha(units: Units, rows: np.ndarray, unit_mask: np.ndarray | None = None) -> dict[str, Any]:
    """Krippendorff's α over the units two or more of ``rows`` label, with its counts."""
    counts = units.counts(rows)
    pairable = counts.sum(axis=1) >= 2
    if unit_mask is not None:
        pairable &= unit_mask
    value = None
    if pairable.any():
        try:
            with warnings.catch_warnings():
                # One value on every unit divides 0 by 0: reported as None below, not warned.
                warnings.simplefilter("ignore", RuntimeWarning)
                value = float(
                    _krippendorff().alpha(
                        value_counts=counts[pairable],
                        value_domain=list(LEVELS),
                        level_of_measurement="ordinal",
                    )
                )
        except ValueError:
            value = None  # one value only: no disagreement to measure against
        if value is not None and not np.isfinite(value):
            value = None
    used = pairable[units.row_unit] & rows
    return {
        "alpha": value,
        "items": len(np.unique(units.unit_item[pairable])),
        "steps": int(pairable.sum()),
        "labels": int(used.sum()),
        "annotators": len(np.unique(units.row_who[used])),
    }


def kappas(units: Units, coders: list[int]) -> list[dict[str, Any]]:
    """Cohen's κ of each pair of ``coders`` over the units both labeled."""
    try:
        from sklearn.exceptions import UndefinedMetricWarning
        from sklearn.metrics import cohen_kappa_score
    except ImportError as exc:
        raise ImportError(
            "agreement needs krippendorff and scikit-learn: pip install 'labwidget[agreement]'"
        ) from exc

    matrix = np.full((len(coders), len(units.unit_item)), MISSING, dtype=np.int8)
    for row, who in enumerate(coders):
        mine = units.row_who == who
        matrix[row, units.row_unit[mine]] = units.row_value[mine]
    found = []
    for i in range(len(coders)):
        for j in range(i + 1, len(coders)):
            both = (matrix[i] != MISSING) & (matrix[j] != MISSING)
            if not both.any():
                continue
            with warnings.catch_warnings():
                # One value on both sides leaves kappa undefined: reported as None below.
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                kappa = float(
                    cohen_kappa_score(
                        PAIRS[:, 0],
                        PAIRS[:, 1],
                        labels=LEVELS,
                        sample_weight=pair_counts(matrix[i, both], matrix[j, both]),
                    )
                )
            found.append(
                {
                    "a": units.annotators[coders[i]],
                    "b": units.annotators[coders[j]],
                    "kappa": kappa if np.isfinite(kappa) else None,
                    "items": len(np.unique(units.unit_item[both])),
                    "steps": int(both.sum()),
                }
            )
    return found


def _first_errors(
    units: Units, unit_ids: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per item, the first step rated -1, and how many of its steps are rated.

    The first error is NO_ERROR when every step is rated and none -1, and -2 when that cannot
    be told; it is read from the labels ``values`` on ``unit_ids``.
    """
    n_items = len(units.items)
    steps = units.unit_step[unit_ids]
    items = units.unit_item[unit_ids]
    on_path = (units.unit_alt[unit_ids] == 0) & (steps < units.item_steps[items])
    steps, items, values = steps[on_path], items[on_path], values[on_path]
    rated = np.bincount(items, minlength=n_items)
    first = np.full(n_items, np.iinfo(np.int64).max)
    wrong = values == -1
    np.minimum.at(first, items[wrong], steps[wrong])
    complete = rated == units.item_steps
    found = np.where(first < np.iinfo(np.int64).max, first, np.where(complete, NO_ERROR, -2))
    return found, rated


def reference_labels(
    units: Units, people: np.ndarray, adjudications: Sequence[tuple[Any, ...]]
) -> tuple[np.ndarray, int, int]:
    """Per unit the reference label (or MISSING); how many units each rule settled.

    The newest adjudication of a unit settles it; elsewhere the people's majority does (a
    tie settles nothing).
    """
    counts = units.counts(people)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    reference = np.where((top > 0) & unique, counts.argmax(axis=1) - 1, MISSING)
    majority = int((reference != MISSING).sum())
    newest: dict[int, int] = {}
    for item, step, alt, _, _, value, _ in sorted(adjudications, key=lambda row: row[-1]):
        unit = units.unit_of(item, step, alt)
        if unit is not None:
            newest[unit] = value  # the newest stays
    for unit, value in newest.items():
        majority -= int(reference[unit] != MISSING)
        reference[unit] = value
    return reference, len(newest), majority


def f1_scores(
    units: Units, subjects: list[int], reference: np.ndarray
) -> tuple[list[dict[str, Any]], int]:
    """Each subject's earliest-error F1 against the reference; how many items it settles."""
    settled = np.nonzero(reference != MISSING)[0]
    truth, _ = _first_errors(units, settled, reference[settled])
    known = truth >= NO_ERROR
    found = []
    for who in subjects:
        mine = units.row_who == who
        predicted, rated = _first_errors(units, units.row_unit[mine], units.row_value[mine])
        scored = known & (rated > 0)
        guesses = [None if p < NO_ERROR else int(p) for p in predicted[scored]]
        score = earliest_error_f1(guesses, [int(t) for t in truth[scored]])
        annotator = units.annotators[who]
        steps = int(scored[units.unit_item[units.row_unit[mine]]].sum())
        found.append(
            {
                "annotator": annotator,
                "source": units.sources[annotator],
                **score,
                "items": int(scored.sum()),
                "steps": steps,
            }
        )
    return found, int(known.sum())
