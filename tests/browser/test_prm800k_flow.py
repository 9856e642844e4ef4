"""A PRM800K labeling pass from the keyboard in a real JupyterLab, checked row by row."""

from __future__ import annotations

from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)
from tests.browser.test_quickstart import SCREENSHOTS

QUERY = "SELECT kind, step, alt, value, text, duration_ms FROM label_events ORDER BY seq"


def test_flags_alternatives_notes_undo_and_finish_from_the_keyboard(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(
        jupyter_server.root / "prm.ipynb",
        [
            "import labwidget as lw\n"
            "lw.StepLabeler(\n"
            "    prompt='Solve $x + 1 = 3$.',\n"
            "    steps=['Subtract $1$ from both sides.',\n"
            "           ['So $x = 3$.', 'So $x = 2$.', 'So $x = 1$.'],\n"
            "           'Check: $2 + 1 = 3$.'],\n"
            "    store=lw.Store('prm.db'),\n"
            ")"
        ],
    )
    db = jupyter_server.root / "prm.db"
    open_notebook(page, jupyter_server, "prm.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()

    def keys(*pressed: str) -> None:
        for key in pressed:
            page.keyboard.press(key)

    keys("3", "1")  # step 1 correct, step 2 (its first alternative) wrong
    wait_for_rows(db, QUERY, 2)
    # The page draws a key press with its ack, which may land a moment after the row.
    page.wait_for_selector('[data-testid="step-2"].lw-step--after-error')
    keys("k", "l", "3")  # step 2's second alternative is correct
    keys("k", "c")  # ... and it continues the solution
    keys("j", "f")  # step 3: can't tell
    keys("n")
    page.get_by_test_id("editor-2").fill("depends on the chosen step")
    keys("Enter")
    keys("k", "k", "1", "k", "u")  # rate step 1 wrong, then undo it back to correct
    wait_for_rows(db, QUERY, 7)
    keys("?")
    page.get_by_test_id("key-help").wait_for(state="visible")
    keys("Escape", "Shift+E")

    rows = wait_for_rows(db, QUERY, 9)
    assert [(kind, step, alt, value, text) for kind, step, alt, value, text, _ in rows] == [
        ("rating", 0, 0, 1, None),
        ("rating", 1, 0, -1, None),
        ("rating", 1, 1, 1, None),
        ("choice", 1, 0, 1, None),
        ("flag", 2, 0, 1, None),
        ("note", 2, 0, None, "depends on the chosen step"),
        ("rating", 0, 0, -1, None),
        ("rating", 0, 0, 1, None),
        ("finish", None, 0, None, "found_error"),
    ]
    assert all(duration is not None and duration >= 0 for *_, duration in rows[:3])
    page.wait_for_selector('[data-testid="finish-bar"][data-status="saved"]')
    page.wait_for_selector('[data-testid="step-0"][data-status="saved"][data-value="1"]')
    assert page.page_errors == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    labeler = page.get_by_test_id("step-labeler")
    labeler.screenshot(path=str(SCREENSHOTS / "steps-light.png"))
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Dark'}); }"
    )
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    page.wait_for_timeout(500)  # the theme's stylesheet applies after the attribute flips
    labeler.screenshot(path=str(SCREENSHOTS / "steps-dark.png"))
