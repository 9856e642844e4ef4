"""Rows in TRL's dataset formats: stepwise supervision, preference and unpaired preference.

Stepwise rows follow TRL's own PRM800K converter (``examples/datasets/prm800k.py``): at each
step every alternative that was not chosen ends a branch of its own, the chosen alternative (or
the annotator's replacement, labelled True) continues the path, and the path is the last row.
Labels are always booleans: +1 is True, -1 is False, and the ``neutral`` policy says what 0 is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from labwidget.formats._errors import FormatError
from labwidget.formats._labelings import Labeling, labelings
from labwidget.store import Store

NEUTRAL = ("false", "true", "drop")
TIES = ("drop", "error")


def branches(
    alternatives: Sequence[Sequence[str]],
    ratings: Mapping[tuple[int, int], int | None],
    choices: Mapping[int, int],
    replacements: Mapping[int, str],
) -> Iterator[tuple[list[str], list[int]]]:
    """The paths through one labelled solution that TRL's PRM800K converter makes rows of.

    Each path comes with the rating of each of its steps (a replacement counts as +1). With no
    choice or replacement recorded at all, alternative 0 continues the path at every step.
    Unlike TRL's converter, which labels an unrated completion False, a branch ending in an
    unrated alternative is left out and the path stops before an unrated step.

    >>> alternatives = [["a"], ["b0", "b1", "b2"], ["c"]]
    >>> ratings = {(0, 0): 1, (1, 0): -1, (1, 1): 0, (1, 2): 1, (2, 0): 1}
    >>> for row in branches(alternatives, ratings, {0: 0, 1: 2, 2: 0}, {}):
    ...     print(row)
    (['a', 'b0'], [1, -1])
    (['a', 'b1'], [1, 0])
    (['a', 'b2', 'c'], [1, 1, 1])

    Args:
        alternatives: the texts of the alternatives at each step.
        ratings: the rating at each (step, alternative); absent or None where unrated.
        choices: the chosen alternative at each step that has one.
        replacements: the annotator's own text at each step that has one.
    """
    explicit = bool(choices or replacements)
    path: list[str] = []
    path_ratings: list[int] = []
    for position, texts in enumerate(alternatives):
        chosen = choices.get(position, None if explicit else 0)
        for alt, text in enumerate(texts):
            rating = ratings.get((position, alt))
            if alt != chosen and rating is not None:
                yield [*path, text], [*path_ratings, rating]
        if chosen is not None:
            rating = ratings.get((position, chosen))
            if rating is None:
                break
            path.append(texts[chosen])
            path_ratings.append(rating)
        elif position in replacements:
            path.append(replacements[position])
            path_ratings.append(1)
        else:
            break
    if path:
        yield path, path_ratings


def stepwise(
    store: Store,
    *,
    neutral: str = "false",
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
    adjudicated: bool = True,
) -> Iterator[dict[str, Any]]:
    """Stepwise-supervision rows ``{prompt, completions, labels}`` for TRL's PRM trainer.

    One set of rows per (item, annotator) (``labeling_rows``); see ``branches`` for how
    alternatives expand. Only the steps the labeling covers are read (``Labeling.item``): a
    PRM800K phase-2 item holds a whole solution, but its line labelled a prefix, and the rest
    makes no row. ``labwidget.StepDataset`` tokenizes exactly these rows.

    Args:
        store: the store to read.
        neutral: what a 0 rating becomes: ``"false"`` (as TRL's PRM800K converter does),
            ``"true"``, or ``"drop"`` (leave out every row with a neutral step).
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source: a family (``"human"``, ``"model"``, ``"auto"``:
            the name and every ``name:…``) or an exact one such as ``"model:judge-7b"``.
        adjudicated: take a step's adjudicated label in place of each annotator's rating.
    """
    if neutral not in NEUTRAL:
        raise ValueError(f"neutral is one of {', '.join(NEUTRAL)}, not {neutral!r}")
    found = labelings(
        store, dataset=dataset, annotator=annotator, source=source, adjudicated=adjudicated
    )
    return (row for labeling in found for row in labeling_rows(labeling, neutral))


def labeling_rows(labeling: Labeling, neutral: str) -> Iterator[dict[str, Any]]:
    """The stepwise rows of one labeling: what both the export and ``StepDataset`` read.

    >>> labeling = Labeling(item={"id": "x", "prompt": "1+1?", "steps": ["2"],
    ...                           "alternatives": [["2"]]}, annotator="ana")
    >>> labeling.ratings[(0, 0)] = 0
    >>> list(labeling_rows(labeling, "true"))
    [{'prompt': '1+1?', 'completions': ['2'], 'labels': [True]}]
    """
    replacements = {step: event["text"] for step, event in labeling.replacements.items()}
    alternatives = labeling.item["alternatives"]
    found = branches(alternatives, labeling.ratings, labeling.choices, replacements)
    for completions, ratings in found:
        if neutral == "drop" and 0 in ratings:
            continue
        labels = [r == 1 or (r == 0 and neutral == "true") for r in ratings]
        yield {"prompt": labeling.item["prompt"], "completions": completions, "labels": labels}


def preference(
    store: Store, *, dataset: str | None = None, annotator: str | None = None, ties: str = "drop"
) -> Iterator[dict[str, Any]]:
    """Preference rows ``{prompt, chosen, rejected}`` for TRL's reward trainer.

    Every row also has a ``margin`` (the recorded strength) when any preference has a strength;
    a preference without one then gets 0.0, the plain Bradley-Terry loss, so that every row
    has the same columns.

    Args:
        store: the store to read.
        dataset: only comparisons of this dataset.
        annotator: only this annotator's preferences.
        ties: ``"drop"`` leaves ties out; ``"error"`` refuses to export any.
    """
    if ties not in TIES:
        raise ValueError(f"ties is one of {', '.join(TIES)}, not {ties!r}")
    return _preference(store, ties, dataset=dataset, annotator=annotator)


def _preference(store: Store, ties: str, **only: str | None) -> Iterator[dict[str, Any]]:
    rows = []
    for found in store.preferences(**only):
        if found["preference"] == "tie":
            if ties == "error":
                raise FormatError(
                    f"comparison {found['comparison']} is a tie for {found['annotator']}, "
                    "which has no chosen answer; export with ties='drop' to leave ties out"
                )
            continue
        a, b = found["answer_a"], found["answer_b"]
        chosen, rejected = (a, b) if found["preference"] == "a" else (b, a)
        rows.append(({"prompt": found["prompt"], "chosen": chosen, "rejected": rejected}, found))
    with_margin = any(found["strength"] is not None for _, found in rows)
    for row, found in rows:
        yield {**row, "margin": float(found["strength"] or 0.0)} if with_margin else row


def unpaired(
    store: Store,
    *,
    dataset: str | None = None,
    annotator: str | None = None,
    score_threshold: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Unpaired-preference rows ``{prompt, completion, label}`` for TRL's KTO trainer.

    Each preference gives its chosen answer labelled True and its rejected one labelled False
    (ties are left out). With ``score_threshold``, each item's score gives one more row: the
    item's steps joined by newlines, labelled ``score >= score_threshold``.

    Args:
        store: the store to read.
        dataset: only comparisons and items of this dataset.
        annotator: only this annotator's preferences and scores.
        score_threshold: the lowest score labelled True; None leaves item scores out.
    """
    for row in preference(store, dataset=dataset, annotator=annotator):
        yield {"prompt": row["prompt"], "completion": row["chosen"], "label": True}
        yield {"prompt": row["prompt"], "completion": row["rejected"], "label": False}
    if score_threshold is None:
        return
    for labeling in labelings(store, dataset=dataset, annotator=annotator):
        if labeling.score is not None:
            yield {
                "prompt": labeling.item["prompt"],
                "completion": "\n".join(labeling.item["steps"]),
                "label": labeling.score >= score_threshold,
            }
