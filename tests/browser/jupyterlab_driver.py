"""Driving JupyterLab 4 with Playwright: open a notebook, wait for its kernel, run all cells."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def open_notebook(page: Any, server: Any, name: str) -> None:
    """Open ``name`` alone (``?reset`` drops saved layouts) and wait until its kernel is idle."""
    page.goto(f"{server.url}/lab/tree/{name}?reset&token={server.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=50)


def run_all_cells(page: Any) -> None:
    """Run every cell through the Run menu, as a user would."""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()


def wait_for_rows(db: Path, query: str, count: int, timeout: float = 30.0) -> list[tuple[Any, ...]]:
    """Poll a SQLite file with plain sqlite3 until ``query`` returns ``count`` rows."""
    deadline = time.monotonic() + timeout
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    rows = con.execute(query).fetchall()
            except sqlite3.OperationalError:
                rows = []
            if len(rows) >= count:
                return rows
        time.sleep(0.02)
    raise TimeoutError(f"expected {count} rows from {db}, got {rows}")


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells; the kernelspec spares JupyterLab its kernel dialog."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{n}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for n, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
