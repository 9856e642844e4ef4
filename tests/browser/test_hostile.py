"""Hostile model output in a real JupyterLab: nothing executes, nothing loads, labeling works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    scroll_to_last_step,
    wait_for_rows,
    write_notebook,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile_payloads.json"
FIRE_EVENTS = """() => {
  const names = ["mouseover", "mouseenter", "mousemove", "focus", "focusin", "animationstart",
                 "animationend", "transitionend", "load", "error", "toggle", "pointerdown"];
  for (const el of document.querySelectorAll("[data-testid=step-labeler] *")) {
    for (const name of names) el.dispatchEvent(new Event(name, {bubbles: true}));
  }
}"""


def test_a_corpus_of_hostile_outputs_cannot_run_script_or_load_anything(
    page: Any, jupyter_server: Any
) -> None:
    payloads = json.loads(CORPUS.read_text(encoding="utf-8"))["payloads"]
    assert len(payloads) >= 50
    (jupyter_server.root / "hostile_payloads.json").write_text(CORPUS.read_text("utf-8"), "utf-8")
    write_notebook(
        jupyter_server.root / "hostile.ipynb",
        [
            "import json\nimport labwidget as lw\n"
            "corpus = json.load(open('hostile_payloads.json', encoding='utf-8'))['payloads']\n"
            "texts = [p.get('prefix', '') + p['text'] * p.get('repeat', 1) + p.get('suffix', '')"
            " for p in corpus]\n"
            "lw.StepLabeler(prompt=texts[0], steps=texts, store=lw.Store('hostile.db'))",
        ],
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((jupyter_server.url, "data:", "blob:"))
            else foreign.append(request.url)
        ),
    )

    open_notebook(page, jupyter_server, "hostile.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    scroll_to_last_step(page, len(payloads))
    # Every payload's row is built and rendered (rows off screen are typeset in idle time):
    # none was skipped for being off screen.
    assert page.locator("[data-testid=step-labeler] .lw-step").count() == len(payloads)
    page.wait_for_function(
        "(count) => document.querySelectorAll("
        "'[data-testid=step-labeler] .lw-step__text > .lw-md').length === count",
        arg=len(payloads),
    )
    # Fire what a user's pointer and keyboard would on every rendered element: any handler
    # that survived sanitizing would run now.
    page.evaluate(FIRE_EVENTS)
    page.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    rows = wait_for_rows(
        jupyter_server.root / "hostile.db", "SELECT step, value FROM label_events", 1
    )

    assert rows == [(0, 1)]
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert foreign == []
    assert page.page_errors == []
    widths = page.evaluate(
        "() => [document.querySelector('[data-testid=step-labeler]').scrollWidth,"
        " document.querySelector('.jp-OutputArea').clientWidth]"
    )
    assert widths[0] <= widths[1] + 1, f"the widget is wider than its output area: {widths}"
    # Control: this page does run inline handlers, so the checks above could have failed.
    page.evaluate(
        "() => { const d = document.createElement('div');"
        " d.innerHTML = '<img src=x onerror=\"window.__control = 1\">'; document.body.append(d); }"
    )
    page.wait_for_function("() => window.__control === 1", timeout=5_000)
