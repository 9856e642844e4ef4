"""Driving JupyterLab 4 with Playwright: open a notebook, wait for its kernel, run all cells."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labwidget.server import LOADED

SERVER_READY_TIMEOUT_S = 90
# The server extension as this checkout enables it, whatever an older install of it enabled.
CONFIG = Path(__file__).resolve().parents[2] / "jupyter-config"
CHROMIUM = os.environ.get("LABWIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium, as the browser tests and the benchmarks launch it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_notebook(page: Any, server: Any, name: str) -> None:
    """Open ``name`` alone (``?reset`` drops saved layouts) and wait until its kernel is idle."""
    page.goto(f"{server.url}/lab/tree/{name}?reset&token={server.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=50)


def run_all_cells(page: Any) -> None:
    """Run every cell through the Run menu, as a user would."""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()


SCROLL_TO_LAST_STEP = """async (count) => {
  const labeler = document.querySelector('[data-testid=step-labeler]');
  const last = () => labeler.querySelector(`[data-testid="step-${count - 1}"]`);
  for (let tries = 0; tries < 1000 && last() === null; tries++) {
    labeler.querySelector('.lw-steps__placeholder')?.scrollIntoView();
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  }
  return last() !== null;
}"""


def scroll_to_last_step(page: Any, count: int) -> None:
    """Scroll the step labeler down as a reader would, until all ``count`` rows are built.

    Rows are built a block at a time as they near the screen; this is what makes them exist.
    """
    assert page.evaluate(SCROLL_TO_LAST_STEP, count), f"step {count - 1} was never built"


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


@dataclass(frozen=True)
class JupyterServer:
    url: str
    token: str
    root: Path
    log: Path

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _quiet_lab_settings(settings: Path) -> None:
    # The news toast appears even with news_url=None and would cover the page.
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


@contextmanager
def running_jupyter_lab(base: Path) -> Iterator[JupyterServer]:
    """Run ``jupyter lab`` on 127.0.0.1 with a token, its state kept in ``base``.

    Config, settings and workspaces live under ``base``; the server (and its kernels) stops
    when the block ends.
    """
    root = base / "root"
    root.mkdir()
    _quiet_lab_settings(base / "lab-settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_CONFIG_PATH=str(CONFIG),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]
    log_path = base / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = JupyterServer(f"http://127.0.0.1:{port}", token, root, log_path)
        try:
            deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
            while not (
                _answers(f"{server.url}/api/status?token={token}")
                and _answers(f"{server.url}/lab?token={token}")
            ):
                if process.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with {process.returncode}: {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer in {SERVER_READY_TIMEOUT_S} s")
                time.sleep(0.1)
            if LOADED not in log_path.read_text():
                raise RuntimeError(f"labwidget's server extension did not load: {log_path}")
            yield server
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # the server shuts its kernels down
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
