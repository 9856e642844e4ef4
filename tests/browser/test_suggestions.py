"""Model suggestions in a real JupyterLab: shown apart, accepted one or all, stored as human."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)

NOTEBOOK = """import labwidget as lw
lw.StepLabeler(
    prompt="What is 17 * 3?",
    steps=["17 * 3 = 17 + 17 + 17.", "17 + 17 = 34.", "34 + 17 = 41.", "So 41."],
    suggestions=[{"value": 1, "confidence": 0.97, "source": "model:prm-tiny"},
                 {"value": 1, "confidence": 0.9, "source": "model:prm-tiny"},
                 {"value": -1, "confidence": 0.55, "source": "model:prm-tiny"}, None],
    store=lw.Store("suggested.db"),
)"""


def test_suggestions_are_accepted_by_key_and_stored_as_human_labels(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "suggested.ipynb", [NOTEBOOK])
    db = jupyter_server.root / "suggested.db"
    open_notebook(page, jupyter_server, "suggested.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    suggestion = page.get_by_test_id("suggestion-2")
    assert "suggested ✗ wrong 55%" in suggestion.inner_text()
    assert page.get_by_test_id("step-2").get_attribute("data-value") == ""

    page.get_by_test_id("prompt").click()
    page.keyboard.press("a")  # step 1 accepted, cursor on step 2
    page.keyboard.press("2")  # a human disagrees with step 2's suggestion
    page.keyboard.press("Shift+A")  # every remaining suggestion: only step 3's is left
    rows = wait_for_rows(db, "SELECT step, value, source, meta FROM label_events ORDER BY seq", 3)
    assert [(step, value, source) for step, value, source, _ in rows] == [
        (0, 1, "human"),
        (1, 0, "human"),
        (2, -1, "human"),
    ]
    assert json.loads(rows[0][3])["accepted_suggestion"]["confidence"] == 0.97
    assert rows[1][3] in (None, "null")
    page.wait_for_selector('[data-testid="step-2"][data-status="saved"][data-value="-1"]')
    assert suggestion.is_hidden()
    assert page.page_errors == []
