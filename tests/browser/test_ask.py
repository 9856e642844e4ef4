"""ask() in a real JupyterLab with the project's ipykernel: a loop stops for a human and goes on.

This is the test that fails loudly if a JupyterLab or ipykernel upgrade changes how comm
messages reach a kernel whose loop is waiting.
"""

from __future__ import annotations

import json
import time
from typing import Any

import ipykernel

from tests.browser.jupyterlab_driver import open_notebook, run_all_cells, write_notebook

LOOP = """import json
import labwidget as lw

store = lw.Store("ask.db")

def loop():
    answers = []
    for n in (2, 3):
        answers.append(lw.ask([f"{n} + {n} = {2 * n}", f"so {2 * n}"], prompt=f"{n} + {n}?",
                              store=store, timeout=60))
    with open("answers.json", "w") as f:
        json.dump(answers, f)
    return answers

job = lw.background(loop)"""


def test_ask_waits_for_the_human_and_the_loop_goes_on(page: Any, jupyter_server: Any) -> None:
    write_notebook(jupyter_server.root / "ask.ipynb", [LOOP, "print('kernel free:', job.done)"])
    answers = jupyter_server.root / "answers.json"
    open_notebook(page, jupyter_server, "ask.ipynb")
    run_all_cells(page)
    first = page.get_by_test_id("step-labeler").first
    first.wait_for(state="visible")
    # The second cell ran while the loop waited: the kernel is not blocked.
    page.locator(".jp-OutputArea-output", has_text="kernel free: False").wait_for()
    first.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    page.keyboard.press("3")
    second = page.get_by_test_id("step-labeler").nth(1)
    second.wait_for(state="visible")
    assert "3 + 3?" in second.get_by_test_id("prompt").inner_text()
    second.get_by_test_id("prompt").click()
    page.keyboard.press("1")
    page.keyboard.press("Shift+E")
    deadline = time.monotonic() + 30
    while not answers.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    got = json.loads(answers.read_text())
    assert [(a["ratings"], a["finish"], a["timed_out"]) for a in got] == [
        ([1, 1], None, False),
        ([-1, None], "found_error", False),
    ], f"ipykernel {ipykernel.__version__}"
    assert page.page_errors == []
