"""Labeling in Jupyter Notebook 7 (the `notebook` package's UI, served by the same server)."""

from __future__ import annotations

from typing import Any

from tests.browser.jupyterlab_driver import wait_for_rows, write_notebook

CELL = """import labwidget as lw
lw.StepLabeler(prompt="What is 2+3*4?", steps=["3*4 = 12", "2+12 = 14", "So 14."],
               store=lw.Store("nb7.db"))"""

# Notebook 7 shows "idle" before the kernel connects too; its kernel status fades once connected.
KERNEL_IDLE = """() => {
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const kernel = document.querySelector('.jp-NotebookKernelStatus');
  return status?.dataset.status === 'idle'
    && kernel?.classList.contains('jp-NotebookKernelStatus-fade')
    && !kernel.classList.contains('jp-NotebookKernelStatus-info');
}"""


def test_labels_from_the_keyboard_in_notebook_7(page: Any, jupyter_server: Any) -> None:
    write_notebook(jupyter_server.root / "nb7.ipynb", [CELL])
    page.goto(f"{jupyter_server.url}/notebooks/nb7.ipynb?token={jupyter_server.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=50)
    # Notebook 7.6.5 on JupyterLab 4.6.6 throws one error of its own while loading its settings
    # (its shortcuts plugin reads the schema of a plugin it lacks); nothing after it may throw.
    startup_errors = list(page.page_errors)
    page.locator(".jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    labeler = page.get_by_test_id("step-labeler")
    labeler.wait_for(state="visible")
    page.get_by_test_id("prompt").click()

    for key in ["3", "1", "k", "j", "-"]:
        page.keyboard.press(key)

    db = jupyter_server.root / "nb7.db"
    rows = wait_for_rows(db, "SELECT step, value FROM label_events ORDER BY seq", 3)
    assert rows == [(0, 1), (1, -1), (2, -1)]
    for step in range(3):
        page.wait_for_selector(f'[data-testid="step-{step}"][data-status="saved"]')
    assert page.page_errors == startup_errors
