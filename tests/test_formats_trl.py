"""TRL rows: stepwise supervision as TRL's PRM800K converter builds it, preference and unpaired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.formats import FormatError, import_prm800k, preference, stepwise, unpaired

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
P1, P2, P3, P4 = (
    "What is $2 + 3 \\cdot 4$?",
    "How many positive divisors does 12 have?",
    "What is $7 \\cdot 8$?",
    "Solve $x + 1 = 3$.",
)
A, B0, B1, B2 = (
    "Multiplication comes first: $3 \\cdot 4 = 12$.",
    "Then $2 + 12 = 15$.",
    "Now I add the 2.",
    "Then $2 + 12 = 14$.",
)
C0, C1, HUMAN = "# Answer\n\n15", "# Answer\n\n12", "# Answer\n\n14"
E0, E1 = (
    "I factor 12 as $2^2 \\cdot 3$.",
    "The number of divisors is the product of the exponents plus one.",
)
E2, E2_FIX = "That is $2 \\cdot 1 = 2$.", "That is $(2+1)(1+1) = 6$."
Q0, Q1 = "$7 \\cdot 8 = 56$.", "# Answer\n\n56"
F, G = "Subtract 1 from both sides: $x = 2$.", "# Answer\n\n2"


def row(prompt: str, *steps: tuple[str, bool]) -> dict[str, Any]:
    return {"prompt": prompt, "completions": [s for s, _ in steps], "labels": [v for _, v in steps]}


# What TRL's converter gives for the sample, in its order, with one difference: it also makes
# the row (A, True), ("Let me check my work.", False) of an alternative whose rating is null;
# an unrated alternative is no evidence either way, so it is left out here.
NEUTRAL_FALSE = [
    row(P1, (A, True), (B0, False)),
    row(P1, (A, True), (B1, False)),
    row(P1, (A, True), (B2, True), (C0, False)),
    row(P1, (A, True), (B2, True), (C1, False)),
    row(P1, (A, True), (B2, True), (HUMAN, True)),
    row(P2, (E0, True), (E1, False), (E2, False)),
    row(P2, (E0, True), (E1, False), (E2_FIX, True)),
    row(P2, (E0, True), (E1, False)),
    row(P3, (Q0, True), (Q1, True)),
    row(P3, (Q0, True), (Q1, False)),
    row(P3, (Q0, True)),
    row(P4, (F, True), (G, True)),
]
NEUTRAL_TRUE = [
    row(P1, (A, True), (B0, False)),
    row(P1, (A, True), (B1, True)),
    *NEUTRAL_FALSE[2:5],
    row(P2, (E0, True), (E1, True), (E2, False)),
    row(P2, (E0, True), (E1, True), (E2_FIX, True)),
    row(P2, (E0, True), (E1, True)),
    *NEUTRAL_FALSE[8:],
]
NEUTRAL_DROP = [NEUTRAL_FALSE[0], *NEUTRAL_FALSE[2:5], *NEUTRAL_FALSE[8:]]


@pytest.mark.parametrize(
    ("neutral", "expected"),
    [("false", NEUTRAL_FALSE), ("true", NEUTRAL_TRUE), ("drop", NEUTRAL_DROP)],
)
def test_stepwise_expands_prm800k_branches_like_trl(
    store: lw.Store, neutral: str, expected: list[dict[str, Any]]
) -> None:
    import_prm800k(store, SAMPLE)
    assert list(stepwise(store, neutral=neutral)) == expected


def test_stepwise_keeps_to_one_annotator(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE)
    rows = list(stepwise(store, annotator="5d2b9e11-bbbb-4c3f-8d21-000000000002"))
    assert rows == NEUTRAL_FALSE[5:8] + NEUTRAL_FALSE[9:11]


def test_a_labeled_path_is_one_row_cut_at_the_first_unrated_step(store: lw.Store) -> None:
    item = store.add_item("q", ["s0", "s1", "s2", "s3"])
    store.record_label(item=item, step=0, value=1)
    store.record_label(item=item, step=1, value=-1)
    store.record_label(item=item, step=3, value=1)
    store.record_label(item=item, step=0, value=0, annotator="bob", source="model:judge")
    store.record_label(item=item, step=1, value=1, annotator="bob")
    store.undo(item=item, step=1, annotator="bob")
    assert list(stepwise(store)) == [row("q", ("s0", True), ("s1", False)), row("q", ("s0", False))]
    assert list(stepwise(store, neutral="true", source="model:judge")) == [row("q", ("s0", True))]
    assert list(stepwise(store, neutral="drop", annotator="bob")) == []


def test_alternatives_without_a_choice_branch_off_alternative_zero(store: lw.Store) -> None:
    item = store.add_item("q", ["s0", ["s1a", "s1b", "s1c"]])
    for step, alt, value in [(0, 0, 1), (1, 0, 1), (1, 1, -1)]:
        store.record_label(item=item, step=step, alt=alt, value=value)
    assert list(stepwise(store)) == [
        row("q", ("s0", True), ("s1b", False)),
        row("q", ("s0", True), ("s1a", True)),
    ]


def test_an_unknown_neutral_policy_is_refused_at_once(store: lw.Store) -> None:
    with pytest.raises(ValueError, match="neutral is one of false, true, drop, not 'maybe'"):
        stepwise(store, neutral="maybe")


def add_preferences(store: lw.Store) -> None:
    first = store.add_comparison("2+2?", "4", "5")
    second = store.add_comparison("3+3?", "5", "6", dataset="other")
    tie = store.add_comparison("1+1?", "2", "two")
    store.record_preference(first, "a", strength=2.0)
    store.record_preference(second, "b")
    store.record_preference(tie, "tie", strength=1.0)


def test_preference_rows_carry_a_margin_and_leave_ties_out(store: lw.Store) -> None:
    add_preferences(store)
    assert list(preference(store)) == [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5", "margin": 2.0},
        {"prompt": "3+3?", "chosen": "6", "rejected": "5", "margin": 0.0},
    ]
    assert list(preference(store, dataset="other")) == [
        {"prompt": "3+3?", "chosen": "6", "rejected": "5"}
    ]
    with pytest.raises(FormatError, match="is a tie for tester"):
        list(preference(store, ties="error"))


def test_unpaired_rows_from_preferences_and_item_scores(store: lw.Store) -> None:
    add_preferences(store)
    good = store.add_item("q", ["a", "b"])
    bad = store.add_item("q", ["c"])
    store.rate_item(item=good, score=0.5)
    store.rate_item(item=good, score=0.8)
    store.rate_item(item=bad, score=0.2)
    from_preferences = [
        {"prompt": "2+2?", "completion": "4", "label": True},
        {"prompt": "2+2?", "completion": "5", "label": False},
        {"prompt": "3+3?", "completion": "6", "label": True},
        {"prompt": "3+3?", "completion": "5", "label": False},
    ]
    assert list(unpaired(store)) == from_preferences
    assert list(unpaired(store, score_threshold=0.7)) == [
        *from_preferences,
        {"prompt": "q", "completion": "a\nb", "label": True},
        {"prompt": "q", "completion": "c", "label": False},
    ]
