"""Pairwise preferences in a real JupyterLab: keys, rows in the store, time on task, layout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
NOTEBOOK_STATE = """() => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  return [notebook.activeCellIndex, notebook.widgets.length];
}"""
QUERY = "SELECT preference, strength, duration_ms FROM preference_events ORDER BY seq"
PROMPT = r"What is $2 + 3 \times 4$?"
ANSWER_A = "Left to right: $2 + 3 = 5$, then $5 \\times 4 = 20$.\n\n**Answer: 20**"
ANSWER_B = (
    "Multiplication comes first:\n\n1. $3 \\times 4 = 12$\n2. $2 + 12 = 14$\n\n**Answer: 14**"
)
# Slack for the browser's and Python's clocks being read a little apart.
CLOCK_SLACK_MS = 50


def box(page: Any, test_id: str) -> dict[str, float]:
    found: dict[str, float] = page.get_by_test_id(test_id).bounding_box()
    return found


def test_pair_preferences_from_the_keyboard(page: Any, jupyter_server: Any) -> None:
    db = jupyter_server.root / "pair.db"
    write_notebook(
        jupyter_server.root / "pair.ipynb",
        [
            "import labwidget as lw\nstore = lw.Store('pair.db')",
            f"lw.compare({ANSWER_A!r}, {ANSWER_B!r}, prompt={PROMPT!r}, store=store)",
        ],
    )
    open_notebook(page, jupyter_server, "pair.ipynb")
    started = time.monotonic()
    run_all_cells(page)
    labeler = page.get_by_test_id("pair-labeler")
    labeler.wait_for(state="visible")
    rendered = time.monotonic()
    assert labeler.get_attribute("data-status") == "none"
    assert page.get_by_test_id("answer-a").locator(".katex").count() == 2
    # A model's numbered lines stay its lines, numbers included (README: How model output is shown).
    assert page.get_by_test_id("answer-b").locator("ol, li").count() == 0
    assert all(n in page.get_by_test_id("answer-b").inner_text() for n in ("1.", "2."))
    a, b = box(page, "answer-a"), box(page, "answer-b")
    assert a["y"] == b["y"]
    assert a["x"] + a["width"] <= b["x"]

    page.get_by_test_id("pair-prompt").click()  # focus the widget as a user would
    notebook_before = page.evaluate(NOTEBOOK_STATE)

    first = time.monotonic()
    page.keyboard.press("Shift+B")
    pressed = time.monotonic()
    [(preference, strength, duration_ms)] = wait_for_rows(db, QUERY, 1)
    assert (preference, strength) == ("b", 2.0)
    assert (first - rendered) * 1000 - CLOCK_SLACK_MS <= duration_ms
    assert duration_ms <= (pressed - started) * 1000 + CLOCK_SLACK_MS
    page.wait_for_selector('[data-testid="pair-labeler"][data-status="saved"][data-preference="b"]')
    assert page.get_by_test_id("pair-verdict").inner_text() == "B is much better"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    labeler.scroll_into_view_if_needed()
    labeler.screenshot(path=str(SCREENSHOTS / "pair.png"))

    second = time.monotonic()
    page.keyboard.press("t")
    rows = wait_for_rows(db, QUERY, 2)
    assert rows[1][:2] == ("tie", None)
    assert (second - pressed) * 1000 - CLOCK_SLACK_MS <= rows[1][2]
    assert rows[1][2] <= (time.monotonic() - first) * 1000 + CLOCK_SLACK_MS
    page.wait_for_selector(
        '[data-testid="pair-labeler"][data-status="saved"][data-preference="tie"]'
    )

    # a, b and B are JupyterLab command-mode shortcuts (insert cell above / below): none fired.
    assert page.evaluate(NOTEBOOK_STATE) == notebook_before
    assert page.get_by_test_id("pair-error").is_hidden()
    assert page.page_errors == []

    # On a narrow page the answers stack, A above B.
    page.set_viewport_size({"width": 520, "height": 900})
    page.wait_for_function(
        """() => {
          const [a, b] = ["answer-a", "answer-b"].map((id) =>
            document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect());
          return a.bottom <= b.top;
        }"""
    )
