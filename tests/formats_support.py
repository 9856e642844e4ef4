"""A small store of labelled solutions that the step-tag format tests export and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import labwidget as lw

Q1, Q2, Q3 = "What is 2 + 3 * 4?", "Is 9.8 larger than 9.11?", "What is 7 * 8?"
A1, A2 = "3 * 4 = 12.", "2 + 12 = 14. The answer is: 14"
B1, B2 = "Compare 0.8 with 0.11.", "0.11 > 0.8, so 9.11 is larger. The answer is: no"
C1 = "7 * 8 = 56. The answer is: 56"


def fill(store: lw.Store, *, neutral_step: bool = True) -> None:
    """Three items: all correct (alice, human), wrong at step 1 (bob, auto:mc; step 0 is
    neutral unless ``neutral_step`` is False), and wrong at step 0 (alice)."""
    one = store.add_item(Q1, [A1, A2], dataset="gsm8k")
    two = store.add_item(Q2, [B1, B2], dataset="math")
    three = store.add_item(Q3, [C1], dataset="gsm8k")
    for item, ratings, who, source in (
        (one, [1, 1], "alice", "human"),
        (two, [0 if neutral_step else 1, -1], "bob", "auto:mc"),
        (three, [-1], "alice", "human"),
    ):
        for step, value in enumerate(ratings):
            store.record_label(item=item, step=step, value=value, annotator=who, source=source)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def items(store: lw.Store) -> list[tuple[str, list[str], str]]:
    """(prompt, steps, dataset) of every item, sorted: what an import must bring back."""
    return sorted((i["prompt"], i["steps"], i["dataset"]) for i in store.items())
