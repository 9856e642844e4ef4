"""examples/debug_loop.ipynb, section 1, on a fresh page: its rows show their tokens at once."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.jupyterlab_driver import open_notebook, run_all_cells
from tests.browser.test_quickstart import REPO

# Per row: its tokens' text, whether the browser paints it, and the tokens' background colours.
ROWS = """() => [...document.querySelectorAll('[data-testid=step-labeler] .lw-step')].map((li) => {
  const heat = li.querySelector('.lw-step__heat');
  const tokens = [...heat.querySelectorAll('.lw-tok')];
  return {
    text: heat.innerText.trim(),
    painted: [...heat.children].every((b) => b.checkVisibility({contentVisibilityAuto: true})),
    colours: [...new Set(tokens.map((t) => getComputedStyle(t).backgroundColor))].length,
  };
})"""


def test_section_1_shows_its_rows_with_text_and_colours_without_a_key(
    page: Any, jupyter_server: Any
) -> None:
    notebook = json.loads((REPO / "examples" / "debug_loop.ipynb").read_text(encoding="utf-8"))
    notebook["cells"] = notebook["cells"][:5]  # the model, then section 1: lw.label(out, ...)
    (jupyter_server.root / "debug_loop.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    open_notebook(page, jupyter_server, "debug_loop.ipynb")
    run_all_cells(page)  # the model trains first: a minute or so
    labeler = page.get_by_test_id("step-labeler")
    labeler.wait_for(state="visible", timeout=240_000)
    labeler.scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({ROWS})().every((row) => row.painted && row.text !== '')")
    rows = page.evaluate(ROWS)
    assert len(rows) == 2, rows
    for row in rows:
        assert row["colours"] > 1, rows
    assert page.page_errors == []
