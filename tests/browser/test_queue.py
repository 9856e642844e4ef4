"""A queue of items in a real JupyterLab: label, move on, restart the kernel, resume."""

from __future__ import annotations

from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)

SETUP = (
    "import labwidget as lw\n"
    "store = lw.Store('queue.db')\n"
    "queue = [store.add_item(f'Problem {n}', [f'{n} step one', f'{n} step two'])"
    " for n in range(3)]\n"
    "lw.StepLabeler(store=store, queue=queue)"
)


def test_a_queue_moves_on_and_resumes_after_a_kernel_restart(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "queue.ipynb", [SETUP])
    db = jupyter_server.root / "queue.db"
    open_notebook(page, jupyter_server, "queue.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    page.keyboard.press("3")
    page.wait_for_selector('[data-testid="progress"][data-done="1"]')
    page.keyboard.press("Shift+N")
    page.wait_for_selector('[data-testid="progress"][data-position="1"]')
    assert "Problem 1" in page.get_by_test_id("prompt").inner_text()
    page.keyboard.press("1")
    rows = wait_for_rows(db, "SELECT step, value FROM label_events ORDER BY seq", 3)
    assert rows == [(0, 1), (1, 1), (0, -1)]
    assert page.page_errors == []

    jupyter_server.shutdown_kernels()
    open_notebook(page, jupyter_server, "queue.ipynb")
    run_all_cells(page)
    page.wait_for_selector('[data-testid="progress"][data-position="1"][data-done="1"]')
    assert "Problem 1" in page.get_by_test_id("prompt").inner_text()
    page.wait_for_selector('[data-testid="step-0"][data-status="saved"][data-value="-1"]')
