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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labwidget._blind import suggestion_bias
from labwidget.store import Store

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
        suggestions: per annotator and model, how suggestions fared (``suggestion_bias``),
            when asked for.
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


def _matches(source: str, wanted: Sequence[str]) -> bool:
    return any(source == w or (w.endswith(":") and source.startswith(w)) for w in wanted)


def agreement(
    store: Store,
    *,
    dataset: str | None = None,
    sources: Sequence[str] | None = None,
    suggestions: bool = False,
) -> Agreement:
    """Agreement between annotators, and each labeler's earliest-error F1 against a reference.

    Args:
        store: the store to read.
        dataset: only items of this dataset.
        sources: the label sources whose annotators count as coders in α and κ: exact
            (``"human"``, the default) or a prefix ending in a colon (``"auto:"``: every
            machine method as a coder of its own). F1 is reported for every coder and every
            ``auto:`` source.
        suggestions: also report how people fared with the model's suggestions against the
            blind items (``suggestion_bias``; it reads every prediction too).
    """
    import numpy as np

    from labwidget import _reliability as r

    coders_from = tuple(sources) if sources else PEOPLE
    shapes = {item: (name, steps) for item, name, steps in store.item_shapes(dataset=dataset)}
    units = r.Units(store.step_history("rating", dataset=dataset), shapes)
    is_coder = np.array([_matches(units.sources[a], coders_from) for a in units.annotators])
    is_person = np.array([units.sources[a] == "human" for a in units.annotators])
    coder_rows = is_coder[units.row_who] if units.annotators else np.zeros(0, dtype=bool)
    people_rows = is_person[units.row_who] if units.annotators else coder_rows
    unit_dataset = np.array(units.item_dataset, dtype=object)[units.unit_item]
    datasets = {
        name: r.alpha(units, coder_rows, unit_dataset == name)
        for name in sorted(set(units.item_dataset))
    }
    by_name = sorted(range(len(units.annotators)), key=units.annotators.__getitem__)
    coders = [w for w in by_name if is_coder[w]]
    machines = [
        w
        for w in by_name
        if not is_coder[w] and units.sources[units.annotators[w]].startswith("auto:")
    ]
    reference, adjudicated, majority = r.reference_labels(
        units, people_rows, store.step_history("adjudication", dataset=dataset)
    )
    f1, known = r.f1_scores(units, coders + machines, reference)
    return Agreement(
        alpha=r.alpha(units, coder_rows),
        datasets=datasets,
        kappa=r.kappas(units, coders),
        f1=f1,
        reference={"items": known, "adjudicated": adjudicated, "majority": majority},
        suggestions=suggestion_bias(store, dataset=dataset) if suggestions else [],
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
    settled = adjudicated(store, items=items, dataset=dataset)
    out = []
    for key in sorted(found):
        unit = found[key]
        if len(set(unit["labels"].values())) < 2 or (pending and key in settled):
            continue
        out.append({**unit, "adjudication": settled.get(key)})
    return out


def adjudicated(
    store: Store, *, items: Sequence[str] | None = None, dataset: str | None = None
) -> dict[tuple[str, int, int], int]:
    """The settled label of each adjudicated (item, step, alternative): its newest verdict."""
    newest: dict[tuple[str, int, int], tuple[int, int]] = {}
    for item, step, alt, _, _, value, *_, seq in store.current_steps(
        "adjudication", items=items, dataset=dataset
    ):
        if seq > newest.get((item, step, alt), (-1, 0))[0]:
            newest[(item, step, alt)] = (seq, value)
    return {key: value for key, (_, value) in newest.items()}


def adjudicate(store: Store, disagreement: dict[str, Any], value: int, **event: Any) -> bool:
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
