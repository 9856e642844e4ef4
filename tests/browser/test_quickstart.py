"""The quick-start notebook, run and labeled from the keyboard in a real JupyterLab."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.browser.jupyterlab_driver import open_notebook, run_all_cells, wait_for_rows

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
ACTIVE_CELL = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"


def test_quickstart_labels_three_steps_from_the_keyboard(page: Any, jupyter_server: Any) -> None:
    shutil.copy(REPO / "examples" / "quickstart.ipynb", jupyter_server.root / "quickstart.ipynb")
    db = jupyter_server.root / "labels.db"

    open_notebook(page, jupyter_server, "quickstart.ipynb")
    run_all_cells(page)
    labeler = page.get_by_test_id("step-labeler")
    labeler.wait_for(state="visible")
    page.get_by_test_id("prompt").click()  # focus the widget as a user would
    cell_before = page.evaluate(ACTIVE_CELL)

    # 3 rates step 1 correct and moves on; 1 rates step 2 wrong; k / j leave the cursor on step 3
    # (and must not move JupyterLab's own cell cursor); - rates step 3 wrong.
    for key in ["3", "1", "k", "j", "-"]:
        page.keyboard.press(key)

    rows = wait_for_rows(db, "SELECT step, value, annotator FROM label_events ORDER BY seq", 3)
    assert [(step, value) for step, value, _ in rows] == [(0, 1), (1, -1), (2, -1)]
    for step in range(3):
        page.wait_for_selector(f'[data-testid="step-{step}"][data-status="saved"]')
    assert page.evaluate(ACTIVE_CELL) == cell_before
    assert page.page_errors == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    labeler.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "quickstart.png"))
