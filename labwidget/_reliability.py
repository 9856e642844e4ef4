"""Agreement arithmetic over current ratings: units, Krippendorff's α, Cohen's κ, first errors.

The ratings arrive as tuples from ``Store.current_steps``; they are indexed once into numpy
arrays (a unit is one alternative at one step of one item), and each figure is a few array
operations away from them. The formulas are the libraries': ``krippendorff.alpha`` (given the
value counts per unit) and scikit-learn's ``cohen_kappa_score``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from labwidget.metrics import NO_ERROR, earliest_error_f1

LEVELS = (-1, 0, 1)
MISSING = 9  # an int8 rating matrix's empty cell


class Units:
    """Current ratings indexed by unit (item, step, alternative) and annotator, as arrays."""

    def __init__(self, rows: Sequence[tuple[Any, ...]], shapes: dict[str, tuple[str, int]]):
        self.items: list[str] = []
        self.annotators: list[str] = []
        self.sources: dict[str, str] = {}
        item_at: dict[str, int] = {}
        who_at: dict[str, int] = {}
        unit_at: dict[tuple[str, int, int], int] = {}
        unit_item: list[int] = []
        unit_step: list[int] = []
        unit_alt: list[int] = []
        row_unit, row_who, row_value = [], [], []
        for item, step, alt, annotator, source, value, *_ in rows:
            if item not in shapes:
                continue
            unit = unit_at.get((item, step, alt))
            if unit is None:
                unit = unit_at[(item, step, alt)] = len(unit_item)
                if item not in item_at:
                    item_at[item] = len(self.items)
                    self.items.append(item)
                unit_item.append(item_at[item])
                unit_step.append(step)
                unit_alt.append(alt)
            who = who_at.get(annotator)
            if who is None:
                who = who_at[annotator] = len(self.annotators)
                self.annotators.append(annotator)
                self.sources[annotator] = source
            row_unit.append(unit)
            row_who.append(who)
            row_value.append(value)
        self.unit_at = unit_at
        self.unit_item = np.array(unit_item, dtype=np.int64)
        self.unit_step = np.array(unit_step, dtype=np.int64)
        self.unit_alt = np.array(unit_alt, dtype=np.int64)
        self.row_unit = np.array(row_unit, dtype=np.int64)
        self.row_who = np.array(row_who, dtype=np.int64)
        self.row_value = np.array(row_value, dtype=np.int64)
        self.item_steps = np.array([shapes[item][1] for item in self.items], dtype=np.int64)
        self.item_dataset = [shapes[item][0] for item in self.items]

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
                kappa = float(cohen_kappa_score(matrix[i, both], matrix[j, both], labels=LEVELS))
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
    newest: dict[int, tuple[int, int]] = {}
    for item, step, alt, _, _, value, *_, seq in adjudications:
        unit = units.unit_at.get((item, step, alt))
        if unit is not None and seq > newest.get(unit, (-1, 0))[0]:
            newest[unit] = (seq, value)
    for unit, (_, value) in newest.items():
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
