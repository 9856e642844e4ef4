"""Model output in a real JupyterLab shows every character the model wrote, math typeset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    scroll_to_last_step,
    write_notebook,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "model_steps.json"
ROWS_RENDERED = """(count) => document.querySelectorAll(
  '[data-testid=step-labeler] .lw-step__text > .lw-md').length === count"""
# The same reading as js/test/visible_text.ts: non-space text, each formula by its source.
ROWS_SHOWN = """(count) => Array.from({length: count}, (_, i) => {
  const root = document.querySelector(`[data-testid="step-${i}"] .lw-step__text > .lw-md`);
  const copy = root.cloneNode(true);
  copy.querySelectorAll('.lw-md__note').forEach((note) => note.remove());
  copy.querySelectorAll('[data-tex]').forEach((math) => math.replaceWith(math.dataset.tex));
  return [
    copy.textContent.replace(/\\s+/g, ''),
    root.querySelectorAll('.lw-md__math, .lw-md__math-error').length,
    root.querySelectorAll('.lw-md__math-error, .katex-error').length,
    root.querySelectorAll('.katex').length,
  ];
})"""


def test_every_step_of_the_corpus_shows_every_character_with_its_math_typeset(
    page: Any, jupyter_server: Any
) -> None:
    steps = json.loads(CORPUS.read_text(encoding="utf-8"))["steps"]
    (jupyter_server.root / "model_steps.json").write_text(CORPUS.read_text("utf-8"), "utf-8")
    write_notebook(
        jupyter_server.root / "rendering.ipynb",
        [
            "import json\nimport labwidget as lw\n"
            "steps = json.load(open('model_steps.json', encoding='utf-8'))['steps']\n"
            "lw.StepLabeler(prompt='Show every character.', steps=[s['text'] for s in steps],"
            " store=lw.Store('rendering.db'))",
        ],
    )

    open_notebook(page, jupyter_server, "rendering.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    scroll_to_last_step(page, len(steps))
    page.wait_for_function(ROWS_RENDERED, arg=len(steps))
    shown = page.evaluate(ROWS_SHOWN, len(steps))

    wrong = [
        (i, step["text"], step["shown"], seen)
        for i, (step, (seen, _, _, _)) in enumerate(zip(steps, shown, strict=True))
        if seen != step["shown"]
    ]
    assert wrong == [], f"{len(wrong)} steps do not show what they hold, e.g. {wrong[:3]}"
    assert [math for _, math, _, _ in shown] == [step["math"] for step in steps]
    failed = [i for i, (_, _, errors, _) in enumerate(shown) if errors]
    assert failed == [i for i, step in enumerate(steps) if step["invalid_tex"]]
    untypeset = [
        i
        for i, (step, (*_, katex)) in enumerate(zip(steps, shown, strict=True))
        if not step["invalid_tex"] and katex != step["math"]
    ]
    assert untypeset == []
    assert page.page_errors == []
    widths = page.evaluate(
        "() => [document.querySelector('[data-testid=step-labeler]').scrollWidth,"
        " document.querySelector('.jp-OutputArea').clientWidth]"
    )
    assert widths[0] <= widths[1] + 1, f"the widget is wider than its output area: {widths}"
