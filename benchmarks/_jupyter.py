"""A throwaway JupyterLab server and headless Chromium for the browser benchmarks.

The same set-up as the browser tests (``tests/browser/conftest.py``): ``jupyter lab`` on
127.0.0.1 with a token and its own config, settings, runtime and workspace directories under a
temporary folder, and Debian's Chromium driven by Playwright with the tests' flags. Everything
is stopped and removed on exit. Run the scripts from the repository root with ``python -m``, so
that ``tests.browser`` can be imported.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.browser.jupyterlab_driver import CHROMIUM, JupyterServer, running_jupyter_lab

VIEWPORT = {"width": 1280, "height": 900}

# Selects cell `index` and runs it. The command is not awaited (recipe pitfall 6), so this
# returns as soon as the execute request is on its way.
_RUN_CELL = """(index) => {
  const app = window.jupyterapp;
  app.shell.currentWidget.content.activeCellIndex = index;
  app.commands.execute('notebook:run-cell');
}"""
_CELL_DONE = """(index) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const cell = panel.content.widgets[index];
  return cell.model.executionCount !== null && kernel.status === 'idle';
}"""
CELL_ERROR = """(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const error = cell.model.outputs.toJSON().find((output) => output.output_type === 'error');
  return error === undefined ? null : `${error.ename}: ${error.evalue}`;
}"""


@contextmanager
def jupyter_lab() -> Iterator[JupyterServer]:
    """A running ``jupyter lab`` with an empty root folder; stopped and deleted on exit."""
    with (
        tempfile.TemporaryDirectory(prefix="labwidget-bench-") as tmp,
        running_jupyter_lab(Path(tmp)) as server,
    ):
        yield server


@contextmanager
def browser_page(browser: Any, server: JupyterServer) -> Iterator[Any]:
    """A page in a fresh browser context (empty cache); its kernels are shut down on exit."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        if errors:
            raise RuntimeError(f"errors in the page: {errors}")
    finally:
        context.close()
        server.shutdown_kernels()


def run_cell(page: Any, index: int, *, wait: bool = True) -> None:
    """Runs cell ``index`` of the open notebook; with ``wait``, until the kernel is idle again."""
    page.evaluate(_RUN_CELL, index)
    if wait:
        page.wait_for_function(_CELL_DONE, arg=index, polling=50)
        raise_cell_error(page, index)


def raise_cell_error(page: Any, index: int) -> None:
    """Raises the exception cell ``index`` ended with, if it did."""
    error = page.evaluate(CELL_ERROR, index)
    if error is not None:
        raise RuntimeError(f"cell {index} failed: {error}")


def trace_frames(pattern: str) -> str:
    """A page init script that notes when kernel messages matching ``pattern`` arrive.

    ``window.frameTimes[match]`` gets the ``performance.now()`` at which the first websocket
    frame whose text matches the regular expression ``pattern`` (its first group, or the whole
    match) reached the page, before JupyterLab handles it. Frames over 4 KB are not read.
    """
    return """(() => {
  const Original = window.WebSocket;
  const decoder = new TextDecoder();
  const pattern = new RegExp(PATTERN);
  window.frameTimes = {};
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ({ data }) => {
        const now = performance.now();
        if ((typeof data === 'string' ? data.length : data.byteLength) > 4096) return;
        const match = (typeof data === 'string' ? data : decoder.decode(data)).match(pattern);
        const key = match === null ? null : (match[1] ?? match[0]);
        if (key !== null && !(key in window.frameTimes)) window.frameTimes[key] = now;
      });
    }
  };
})();""".replace("PATTERN", json.dumps(pattern))


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolated between the two nearest ranks.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def describe_machine() -> str:
    """CPUs, load average and versions, printed with every result (runs share a dev box)."""
    from importlib.metadata import version

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    chromium_version = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("jupyterlab", "ipywidgets", "ipykernel", "anywidget")
    )
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"load average {load} (1/5/15 min); Python {platform.python_version()}; "
        f"{packages}; {chromium_version}"
    )
