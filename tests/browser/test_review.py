"""A model's suggestions from the store, blind items, the review queue and adjudication, by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import labwidget as lw
from labwidget.data import StepDataset
from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)
from tests.test_agreement_adjudication import labels_of, tokenizer
from tests.test_widget_modes import machines, predict

STEPS = ["17 * 3 = 17 + 17 + 17.", "17 + 17 = 34.", "34 + 17 = 41.", "So 41."]


def labeler(server: Any, page: Any, name: str, call: str) -> None:
    """Opens a notebook whose one cell shows ``call`` on the store ``name``.db, focused."""
    cell = f"import labwidget as lw\nstore = lw.Store({name + '.db'!r})\n{call}"
    write_notebook(server.root / f"{name}.ipynb", [cell])
    open_notebook(page, server, f"{name}.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()


def test_a_models_suggestions_show_and_a_blind_item_shows_none(
    page: Any, jupyter_server: Any
) -> None:
    db: Path = jupyter_server.root / "blind.db"
    with lw.Store(db) as store:
        seen = store.add_item("What is 17 * 3?", STEPS)
        blind = store.add_item("What is 18 * 3?", STEPS)
        predict(store, seen, [0.97, 0.9, 0.2, 0.3])
        predict(store, blind, [0.97, 0.9, 0.2, 0.3], blind=True)
    queue = f"lw.StepLabeler(store=store, queue={[seen, blind]!r}, suggestions='model:prm')"
    labeler(jupyter_server, page, "blind", queue)
    assert "suggested ✗ wrong 80% · model:prm" in page.get_by_test_id("suggestion-2").inner_text()
    page.keyboard.press("a")
    rows = wait_for_rows(db, "SELECT step, value, source FROM label_events WHERE seq > 8", 1)
    assert rows == [(0, 1, "human")]

    page.keyboard.press("Shift+N")
    page.wait_for_selector('[data-testid="progress"][data-position="1"]')
    assert "18 * 3" in page.get_by_test_id("prompt").inner_text()
    for step in range(len(STEPS)):
        assert page.get_by_test_id(f"suggestion-{step}").inner_text() == ""
        assert page.get_by_test_id(f"step-{step}").get_attribute("data-suggested") == ""
    assert "suggested" not in page.get_by_test_id("step-labeler").inner_text()
    page.keyboard.press("Shift+A")  # nothing to accept: nothing is sent
    page.keyboard.press("3")
    rows = wait_for_rows(db, "SELECT item_id, step, value FROM label_events WHERE seq > 8", 2)
    assert rows[1:] == [(blind, 0, 1)]
    assert page.page_errors == []


def test_a_human_confirms_a_disagreement_by_keyboard(page: Any, jupyter_server: Any) -> None:
    db: Path = jupyter_server.root / "review.db"
    with lw.Store(db) as store:
        item = store.add_item("What is 17 * 3?", STEPS)
        machines(store, item, [(1, 1.0), (1, 1.0), (1, 0.75), (-1, 0.0)], [1, 1, -1, -1])
        # Ten minutes of labeling this week, against a team cap of six.
        earlier = store.add_item("What is 2 + 2?", ["2 + 2 = 4."])
        store.record_label(item=earlier, step=0, value=1, duration_ms=600_000)
        store.set_setting("weekly_cap_h", 0.1)
    labeler(jupyter_server, page, "review", "lw.StepLabeler(store=store, queue='review')")
    row = page.get_by_test_id("step-2")
    assert row.get_attribute("aria-current") is not None  # the cursor starts at the dispute
    evidence = page.get_by_test_id("evidence-2")
    assert evidence.get_attribute("data-review") == "true"
    bar = evidence.get_by_test_id("mc-bar")
    assert bar.get_attribute("aria-valuenow") == "0.75"
    assert bar.get_attribute("title") == "6 of 8 rollouts reach the answer"
    judge = evidence.get_by_test_id("judge-verdict")
    assert "auto:judge ✗ wrong" in judge.inner_text()
    assert judge.get_attribute("title") == "step 2 checked"
    assert judge.get_attribute("aria-description") == "step 2 checked"
    notice = page.get_by_test_id("cap-notice")
    assert notice.is_visible()
    assert "0.2 h of labeling this week, past the team's 0.1 h cap" in notice.inner_text()

    page.keyboard.press("1")  # the human sides with the judge
    page.wait_for_selector('[data-testid="progress"][data-done="1"]')
    rows = wait_for_rows(
        db, "SELECT source, value FROM label_events WHERE step = 2 ORDER BY seq", 3
    )
    assert rows == [("auto:mc", 1), ("auto:judge", -1), ("human", -1)]
    assert page.page_errors == []


def test_adjudication_by_keyboard_reaches_the_dataset(page: Any, jupyter_server: Any) -> None:
    db: Path = jupyter_server.root / "adjudicate.db"
    with lw.Store(db) as store:
        item = store.add_item("q", ["a", "b", "c"])
        for step, value in enumerate([1, 1, -1]):
            store.record_label(item=item, step=step, value=value, annotator="x")
        for step, value in enumerate([1, -1]):
            store.record_label(item=item, step=step, value=value, annotator="y")
    call = "lw.StepLabeler(store=lw.Store('adjudicate.db', annotator='lead'), adjudicate=True)"
    labeler(jupyter_server, page, "adjudicate", call)
    said = page.get_by_test_id("evidence-1").inner_text()
    assert "x: ✓ correct (+1)" in said
    assert "y: ✗ wrong (-1)" in said
    page.keyboard.press("3")
    page.wait_for_selector('[data-testid="step-1"][data-status="saved"][data-value="1"]')
    rows = wait_for_rows(db, "SELECT step, kind, value, annotator FROM label_events", 6)
    assert rows[-1] == (1, "adjudication", 1, "lead")
    with lw.Store(db) as store:
        got = labels_of(list(StepDataset(store, tokenizer()).rows()))
    assert got == [[True, True], [True, True, False]]
    assert page.page_errors == []
