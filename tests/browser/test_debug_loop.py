"""examples/debug_loop.ipynb, section 1, on a fresh page: its rows show their tokens at once."""

from __future__ import annotations

import json
import shutil
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


# Notes, from the page's start, every heatmap block that skips its contents (content-visibility).
RECORD_SKIPS = """
window.__skipped = [];
new MutationObserver(() => {
  for (const block of document.querySelectorAll('.lw-heatmap__step:not([data-watched])')) {
    block.dataset.watched = '';
    block.addEventListener('contentvisibilityautostatechange', (ev) => {
      if (ev.skipped) window.__skipped.push(block);
    });
  }
}).observe(document, {subtree: true, childList: true});
"""

# Section 1's labeler (the notebook's first), row by row: its tokens' text, whether each chunk
# of tokens is painted (nothing around it skips its contents), the tokens' background colours;
# and which of its blocks ever skipped their contents.
SECTION_1 = """() => {
  const labeler = document.querySelector('[data-testid=step-labeler]');
  const rows = [...labeler.querySelectorAll('.lw-step')].map((li) => {
    const heat = li.querySelector('.lw-step__heat');
    const tokens = [...heat.querySelectorAll('.lw-tok')];
    return {
      text: heat.innerText.trim(),
      painted: [...heat.querySelectorAll('.lw-heatmap__chunk')]
        .every((chunk) => chunk.checkVisibility({contentVisibilityAuto: true})),
      colours: [...new Set(tokens.map((t) => getComputedStyle(t).backgroundColor))].length,
    };
  });
  const skipped = window.__skipped.filter((block) => labeler.contains(block));
  return {rows, skipped: skipped.map((block) => block.dataset.step)};
}"""


def test_run_all_paints_section_1_though_it_was_drawn_off_screen(
    page: Any, jupyter_server: Any
) -> None:
    # Run All on the whole notebook: JupyterLab scrolls on to the last cells, so section 1's
    # labeler is drawn while its cell is off screen, and the reader scrolls back up to it. Its
    # rows must not wait for the browser to decide again, on screen, to paint a nested
    # `content-visibility: auto` block: the rows of issue 12 were empty until `t` twice.
    shutil.copy(REPO / "examples" / "debug_loop.ipynb", jupyter_server.root / "debug_all.ipynb")
    page.add_init_script(RECORD_SKIPS)
    open_notebook(page, jupyter_server, "debug_all.ipynb")
    run_all_cells(page)
    labeler = page.get_by_test_id("step-labeler").first
    labeler.wait_for(state="attached", timeout=240_000)
    page.wait_for_function(f"() => ({SECTION_1})().rows.length === 2")
    labeler.scroll_into_view_if_needed()
    page.wait_for_function(
        f"() => ({SECTION_1})().rows.every((row) => row.painted && row.text !== '')"
    )
    section = page.evaluate(SECTION_1)
    assert all(row["colours"] > 1 for row in section["rows"]), section
    assert section["skipped"] == [], section
    assert page.page_errors == []
