"""The example notebooks run top to bottom in a real kernel, as a newcomer would run them."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import labwidget as lw

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_debug_loop_notebook_runs_and_captures_outputs(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "debug_loop.ipynb", tmp_path)
    notebook = nbformat.read(tmp_path / "debug_loop.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "generate calls seen: 20, recorded: 4" in printed
    with lw.Store(tmp_path / "debug.db") as store:
        captured = store.items(dataset="captured")
        assert len(captured) == 4
        assert all(item["steps"] for item in captured)


def test_the_train_prm_script_trains_and_reports_the_prm_metrics(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    store = tmp_path / "prm.db"
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "train_prm.py"), "--problems", "300", "--epochs", "2",
         "--store", str(store)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    printed = run.stdout
    assert "epoch 2: held-out loss" in printed
    assert "held-out, trained  : step accuracy" in printed
    assert "earliest-error F1" in printed
    assert "Best-of-N alone is a biased PRM metric" in printed
    with lw.Store(store) as opened:
        assert len(opened.items(dataset="test")) == 60


def test_the_live_training_notebook_trains_while_labels_land(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "live_training.ipynb", tmp_path)
    shutil.copy(EXAMPLES / "train_prm.py", tmp_path)  # its helpers: problems, tokenizer, model
    notebook = nbformat.read(tmp_path / "live_training.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    last = notebook.cells[-1].outputs
    printed = "".join(output.get("text", "") for output in last)
    rounds = [int(line.split(" items")[0]) for line in printed.splitlines() if "F1" in line]
    assert len(rounds) == 3
    assert rounds == [rounds[0], 2 * rounds[0], 3 * rounds[0]]
    with lw.Store(tmp_path / "live_training.db") as store:
        finished = store.events(annotator="you", kind="finish")
        assert len(finished) == rounds[-1]
        suggested = store.events(kind="prediction")
        assert suggested
        assert {event["source"] for event in suggested} == {"model:prm-live"}
