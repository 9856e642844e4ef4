"""How much labelers agree with each other and with the machines, and the disagreements to settle.

``agreement`` reads every current step rating in one pass and reports Krippendorff's α on the
ordinal −1 / 0 / +1 scale (the ``krippendorff`` package), Cohen's κ of each pair of annotators
(scikit-learn's ``cohen_kappa_score``) and, per annotator and per ``auto:`` source, ProcessBench's
earliest-error F1 against a reference: the adjudicated label of a step where there is one,
otherwise the people's majority. ``disagreements`` lists the steps where labelers differ, with
who said what, and ``adjudicate`` stores a person's verdict on one of them.

A unit of agreement is one alternative at one step of one item; an annotator's label there is
their newest rating (cleared ratings are none). Every figure comes with the counts behind it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labwidget._blind import suggestion_bias
from labwidget.metrics import NO_ERROR, earliest_error_f1
from labwidget.store import Store

LEVELS = (-1, 0, 1)
MISSING = 9  # an int8 rating matrix's empty cell
PEOPLE = ("human",)


@dataclass
class Agreement:
    """What ``agreement`` found; every figure with the items and steps behind it.

    Attributes:
        alpha: Krippendorff's α over every dataset: ``alpha`` (None when undefined: fewer
            than two labels on every step, or one value only), ``items``, ``steps`` (steps
            with two or more labels), ``labels``, ``annotators``.
        datasets: the same, per dataset.
        kappa: per pair of annotators who labeled a step in common: ``a``, ``b``, ``kappa``
            (None when undefined), ``items``, ``steps``.
        f1: per annotator and per ``auto:`` source: ``annotator``, ``source``, and
            ``earliest_error_f1``'s ``f1``, ``erroneous``, ``correct``, ``n_erroneous``,
            ``n_correct``, over the items it labeled whose reference is complete.
        reference: ``items`` with a known first error, ``adjudicated`` and ``majority``
            steps behind it.
        suggestions: per annotator and model, how suggestions fared (see ``suggestion_bias``).
    """

    alpha: dict[str, Any]
    datasets: dict[str, dict[str, Any]]
    kappa: list[dict[str, Any]]
    f1: list[dict[str, Any]]
    reference: dict[str, int]
    suggestions: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        def number(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        def alpha_line(name: str, figure: dict[str, Any]) -> str:
            return (
                f"{name:<24} {number(figure['alpha']):>7}  {figure['items']:>7} items "
                f"{figure['steps']:>8} steps {figure['labels']:>9} labels "
                f"{figure['annotators']:>4} annotators"
            )

        lines = ["Krippendorff's alpha (ordinal -1/0/+1)", alpha_line("all", self.alpha)]
        lines += [alpha_line(name, figure) for name, figure in sorted(self.datasets.items())]
        lines.append("Cohen's kappa")
        lines += [
            f"{k['a']} ~ {k['b']}: {number(k['kappa'])}  ({k['items']} items, {k['steps']} steps)"
            for k in self.kappa
        ]
        reference = self.reference
        lines.append(
            f"Earliest-error F1 against the reference ({reference['items']} items; "
            f"{reference['adjudicated']} adjudicated and {reference['majority']} majority steps)"
        )
        lines += [
            f"{f['annotator']} ({f['source']}): {number(f['f1'])}  erroneous "
            f"{number(f['erroneous'])} of {f['n_erroneous']}, correct {number(f['correct'])} "
            f"of {f['n_correct']}"
            for f in self.f1
        ]
        if self.suggestions:
            lines.append("Suggestions (blind items show how often they are wrong)")
            lines += [
                f"{s['annotator']} / {s['model']}: agreed {number(s['agreed'])} of "
                f"{s['shown_steps']} shown steps; blind labels reject {number(s['wrong_blind'])} "
                f"of {s['blind_steps']}; wrong ones accepted {number(s['accepted_wrong'])}"
                for s in self.suggestions
            ]
        return "\n".join(lines)


class _Units:
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
        index = self.row_unit[rows] * 3 + self.row_value[rows] + 1
        return np.bincount(index, minlength=len(self.unit_item) * 3).reshape(-1, 3)


def _matches(source: str, wanted: Sequence[str]) -> bool:
    return any(source == w or (w.endswith(":") and source.startswith(w)) for w in wanted)


def _alpha(units: _Units, rows: np.ndarray, unit_mask: np.ndarray | None = None) -> dict[str, Any]:
    """Krippendorff's α over the units two or more of ``rows`` label, with its counts."""
    counts = units.counts(rows)
    pairable = counts.sum(axis=1) >= 2
    if unit_mask is not None:
        pairable &= unit_mask
    value = None
    if pairable.any():
        import krippendorff

        try:
            value = float(
                krippendorff.alpha(
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
        "items": int(len(np.unique(units.unit_item[pairable]))),
        "steps": int(pairable.sum()),
        "labels": int(used.sum()),
        "annotators": int(len(np.unique(units.row_who[used]))),
    }


def _kappas(units: _Units, coders: list[int]) -> list[dict[str, Any]]:
    """Cohen's κ of each pair of ``coders`` over the units both labeled."""
    from sklearn.metrics import cohen_kappa_score

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
                warnings.simplefilter("ignore", RuntimeWarning)
                kappa = float(cohen_kappa_score(matrix[i, both], matrix[j, both], labels=LEVELS))
            found.append(
                {
                    "a": units.annotators[coders[i]],
                    "b": units.annotators[coders[j]],
                    "kappa": kappa if np.isfinite(kappa) else None,
                    "items": int(len(np.unique(units.unit_item[both]))),
                    "steps": int(both.sum()),
                }
            )
    return found


def _first_errors(
    units: _Units, unit_ids: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the first step rated -1 (or NO_ERROR when every step is rated, -2 when that
    cannot be told), and how many of its steps are rated, from labels on ``unit_ids``."""
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


def _reference(
    units: _Units, people: np.ndarray, adjudications: Sequence[tuple[Any, ...]]
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
    return reference, adjudicated, majority


def _f1(
    units: _Units, subjects: list[int], reference: np.ndarray
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


def agreement(
    store: Store, *, dataset: str | None = None, sources: Sequence[str] | None = None
) -> Agreement:
    """Agreement between annotators, and each labeler's earliest-error F1 against a reference.

    Args:
        store: the store to read.
        dataset: only items of this dataset.
        sources: the label sources whose annotators count as coders in α and κ: exact
            (``"human"``, the default) or a prefix ending in a colon (``"auto:"``: every
            machine method as a coder of its own). F1 is reported for every coder and every
            ``auto:`` source.
    """
    coders_from = tuple(sources) if sources else PEOPLE
    shapes = {item: (name, steps) for item, name, steps in store.item_shapes(dataset=dataset)}
    units = _Units(store.current_steps("rating", dataset=dataset), shapes)
    is_coder = np.array([_matches(units.sources[a], coders_from) for a in units.annotators])
    is_person = np.array([units.sources[a] == "human" for a in units.annotators])
    coder_rows = is_coder[units.row_who] if len(units.annotators) else np.zeros(0, dtype=bool)
    datasets = {}
    unit_dataset = np.array(units.item_dataset, dtype=object)[units.unit_item]
    for name in sorted(set(units.item_dataset)):
        datasets[name] = _alpha(units, coder_rows, unit_dataset == name)
    coders = [w for w in range(len(units.annotators)) if is_coder[w]]
    machines = [
        w
        for w in range(len(units.annotators))
        if not is_coder[w] and units.sources[units.annotators[w]].startswith("auto:")
    ]
    people_rows = is_person[units.row_who] if len(units.annotators) else coder_rows
    reference, adjudicated, majority = _reference(
        units, people_rows, store.current_steps("adjudication", dataset=dataset)
    )
    f1, known = _f1(units, coders + machines, reference)
    return Agreement(
        alpha=_alpha(units, coder_rows),
        datasets=datasets,
        kappa=_kappas(units, coders),
        f1=f1,
        reference={"items": known, "adjudicated": adjudicated, "majority": majority},
        suggestions=suggestion_bias(store, dataset=dataset),
    )


def disagreements(
    store: Store,
    *,
    items: Sequence[str] | None = None,
    dataset: str | None = None,
    auto: bool = False,
    pending: bool = True,
) -> list[dict[str, Any]]:
    """The steps where labelers' current ratings differ, with who said what.

    One dict per (item, step, alternative), in item id and step order: ``item``, ``step``,
    ``alt``, ``labels`` (annotator -> rating), ``sources`` (annotator -> source) and
    ``adjudication`` (the settled label, or None).

    Args:
        store: the store to read.
        items: only these items.
        dataset: only items of this dataset.
        auto: count the ``auto:`` sources' labels as well as people's.
        pending: leave out the steps already adjudicated.
    """
    wanted = ("human", "auto:") if auto else PEOPLE
    found: dict[tuple[str, int, int], dict[str, Any]] = {}
    for item, step, alt, annotator, source, value, *_ in store.current_steps(
        "rating", items=items, dataset=dataset
    ):
        if _matches(source, wanted):
            unit = found.setdefault(
                (item, step, alt),
                {"item": item, "step": step, "alt": alt, "labels": {}, "sources": {}},
            )
            unit["labels"][annotator] = value
            unit["sources"][annotator] = source
    newest: dict[tuple[str, int, int], tuple[int, int]] = {}
    for item, step, alt, _, _, value, *_, seq in store.current_steps(
        "adjudication", items=items, dataset=dataset
    ):
        if seq > newest.get((item, step, alt), (-1, 0))[0]:
            newest[(item, step, alt)] = (seq, value)
    settled = {key: value for key, (_, value) in newest.items()}
    out = []
    for key in sorted(found):
        unit = found[key]
        if len(set(unit["labels"].values())) < 2 or (pending and key in settled):
            continue
        out.append({**unit, "adjudication": settled.get(key)})
    return out


def adjudicate(
    store: Store, disagreement: dict[str, Any], value: int, **event: Any
) -> bool:
    """Settle one of ``disagreements``: store ``value`` as the step's adjudicated label.

    The event keeps who said what (``meta["labels"]``); its annotator is the store's (or
    ``annotator=``), and ``event_id=`` makes a retry idempotent. True if it was new.
    """
    return store.adjudicate(
        item=disagreement["item"],
        step=disagreement["step"],
        alt=disagreement["alt"],
        value=value,
        meta={"labels": disagreement["labels"]},
        **event,
    )
