"""Rows written around the store (by an admin with SQL) that break its rules: every reader skips
them with a warning naming them, and nobody's reading stops.

The store itself never writes such rows (and on PostgreSQL annotators cannot: see
test_store_security.py), so each test writes them with plain SQL, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import labwidget as lw
from labwidget.store._engine import resolve_url

STEPS = ["Step 1: 6 * 7 = 42", "Step 2: so x = 42", "Step 3: answer 42"]
EVENT = (
    "INSERT INTO label_events (event_id, item_id, step, alt, kind, value, annotator, source, "
    "created_at) VALUES (:event, :item, :step, :alt, :kind, :value, 'tester', 'human', "
    "'2026-01-01 00:00:00')"
)


def around_the_store(store_url: str, statement: str, **parameters: object) -> None:
    engine = sa.create_engine(resolve_url(store_url))
    with engine.begin() as connection:
        connection.execute(sa.text(statement), parameters)
    engine.dispose()


def labeled_item(store: lw.Store) -> str:
    item = store.add_item("What is 6 * 7?", STEPS)
    store.record_label(item=item, step=0, value=1)
    store.record_label(item=item, step=1, value=1)
    return item


def read_everything(
    store: lw.Store, item: str, tmp_path: Path
) -> tuple[list[str], list[dict[str, object]]]:
    """Every reader the issue saw crash: items, a labeler over the queue, the TRL export.

    Returns the item's steps as they read and the export's rows.
    """
    (found,) = store.items()
    assert store.item(item) == found
    labeler = lw.StepLabeler(store=store, queue=[item])
    assert labeler.steps == found["steps"]
    for chosen, texts in zip(labeler.saved["choices"], found["alternatives"], strict=True):
        assert chosen is None or 0 <= chosen < len(texts)  # the page shows that alternative
    out = tmp_path / "prm.jsonl"
    lw.export(store, out, format="trl-stepwise")
    return found["steps"], [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize(
    ("position", "alt", "steps"),
    [
        (9, 0, STEPS),  # a step far past the end
        (3, 1, STEPS),  # a step with no alternative 0
        (1, 2, STEPS),  # an alternative past a gap
    ],
    ids=["position-9", "no-alternative-0", "alternative-gap"],
)
def test_a_stray_step_row_is_skipped_with_a_warning_naming_it(
    store: lw.Store, store_url: str, tmp_path: Path, position: int, alt: int, steps: list[str]
) -> None:
    item = labeled_item(store)
    around_the_store(
        store_url,
        "INSERT INTO steps (item_id, position, alt, text, chosen) VALUES (:i, :p, :a, 'x', :c)",
        i=item, p=position, a=alt, c=alt == 0,
    )  # fmt: skip
    named = re.escape(f"item {item!r} position {position} alternative {alt}")
    with pytest.warns(UserWarning, match=named):
        steps, rows = read_everything(store, item, tmp_path)
    assert steps == STEPS
    assert rows == [{"prompt": "What is 6 * 7?", "completions": STEPS[:2], "labels": [True] * 2}]
    assert store.step_ratings(item) == [1, 1, None]
    # The store keeps to what readers show: no label goes to a step they do not have.
    with pytest.raises(lw.LabelError, match="no step"):
        store.record_label(item=item, step=position, alt=alt, value=1)


def test_a_gap_in_positions_hides_the_steps_after_it(
    store: lw.Store, store_url: str, tmp_path: Path
) -> None:
    item = labeled_item(store)
    around_the_store(store_url, "DELETE FROM steps WHERE item_id = :i AND position = 1", i=item)
    with (
        pytest.warns(UserWarning, match=re.escape(f"item {item!r} position 2 alternative 0")),
        pytest.warns(UserWarning, match="names step 1, alternative 0, which the item does not"),
    ):
        steps, rows = read_everything(store, item, tmp_path)
    # Step 2 would otherwise show at index 1, with the label given to the step deleted.
    assert steps == STEPS[:1]
    assert rows == [{"prompt": "What is 6 * 7?", "completions": STEPS[:1], "labels": [True]}]


@pytest.mark.parametrize(
    ("step", "alt", "kind", "value"),
    [(99, 0, "rating", -1), (-1, 0, "rating", -1), (1, 5, "rating", -1), (1, 0, "choice", 7)],
    ids=["step-99", "step-minus-1", "alternative-5", "choice-7"],
)
def test_a_label_on_a_step_the_item_lacks_is_skipped_with_a_warning_naming_it(
    store: lw.Store,
    store_url: str,
    tmp_path: Path,
    step: int,
    alt: int,
    kind: str,
    value: int,
) -> None:
    item = labeled_item(store)
    around_the_store(
        store_url, EVENT, event="stray", item=item, step=step, alt=alt, kind=kind, value=value
    )
    if kind == "choice":  # with a rating of the alternative it names, TRL's converter follows it
        around_the_store(
            store_url, EVENT, event="stray-rating", item=item, step=1, alt=7, kind="rating", value=1
        )
    with pytest.warns(UserWarning, match="skipped label event 'stray"):
        steps, rows = read_everything(store, item, tmp_path)
    assert steps == STEPS
    assert rows == [{"prompt": "What is 6 * 7?", "completions": STEPS[:2], "labels": [True] * 2}]
    assert store.step_ratings(item) == [1, 1, None]
