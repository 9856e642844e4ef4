"""What only a real browser shows of the step labeler: folding, the source, the key help on screen,
the widget's own scrolling, the number's place, and the kernel's death."""

from __future__ import annotations

from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    scroll_to_last_step,
    wait_for_rows,
    write_notebook,
)

HUGE = "(1)" * 349_526  # one line of 1 MiB

LONG = """import labwidget as lw
lw.StepLabeler(prompt="Count the arrangements.",
               steps=["First line of the step,\\nits second line,\\nand a third line.",
                      "(1)" * 349_526, "So the answer is 1."],
               store=lw.Store("long.db"))"""

IN_VIEW = """([selector, area]) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const clip = area ? document.querySelector(area).getBoundingClientRect()
                    : {top: 0, bottom: window.innerHeight};
  return box.height > 0 && box.top >= clip.top - 1 && box.bottom <= clip.bottom + 1;
}"""


def in_view(page: Any, selector: str, area: str | None = None) -> bool:
    """Whether ``selector`` is wholly on screen (and inside ``area``, a scroll area, if given)."""
    return bool(page.evaluate(IN_VIEW, [selector, area]))


HEIGHT = "(s) => document.querySelector(s).getBoundingClientRect().height"


def height(page: Any, selector: str) -> float:
    return float(page.evaluate(HEIGHT, selector))


def test_a_huge_step_is_folded_with_its_rating_in_view_and_v_shows_its_source(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "long.ipynb", [LONG])
    open_notebook(page, jupyter_server, "long.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    step = '[data-testid="step-1"]'
    page.locator(step).wait_for(state="attached")

    # Folded: a few screens at most, not 246,000 pixels, and it says what is left out.
    assert height(page, step) < 4 * 900
    assert page.get_by_test_id("fold-1").inner_text().endswith("more characters (z shows all)")
    # A step's number sits at the top of its text, not at the bottom of a step of three lines.
    number = page.get_by_test_id("number-0").bounding_box()
    text = page.locator('[data-testid="step-0"] .lw-step__text').bounding_box()
    assert abs(number["y"] - text["y"]) < 8, (number, text)

    page.get_by_test_id("prompt").click()
    page.keyboard.press("j")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=step-1]').hasAttribute('aria-current')"
    )
    page.keyboard.press("z")
    page.wait_for_function(f"() => ({HEIGHT})('[data-testid=step-1]') > 20000")
    # Halfway through the unfolded step its rating buttons are still on screen.
    page.evaluate(
        """() => {
      const list = document.querySelector('.lw-steps__list');
      const row = document.querySelector('[data-testid=step-1]');
      list.scrollTop = row.offsetTop - list.offsetTop + row.offsetHeight / 2;
    }"""
    )
    page.wait_for_timeout(100)  # a frame for the scroll; the assertion reads positions
    assert not in_view(page, '[data-testid="step-1"] .lw-step__text', ".lw-steps__list")
    assert in_view(page, '[data-testid="rate-1-1"]', ".lw-steps__list")
    page.get_by_test_id("rate-1-1").click()
    rows = wait_for_rows(jupyter_server.root / "long.db", "SELECT step, value FROM label_events", 1)
    assert rows == [(1, 1)]

    # The source, exactly as written, as text (the click moved the cursor on to step 2).
    page.get_by_test_id("prompt").click()
    page.keyboard.press("k")
    page.keyboard.press("v")
    source = page.get_by_test_id("step-source")
    source.wait_for(state="visible")
    assert source.evaluate("(pre, huge) => pre.textContent === huge", HUGE)
    assert source.evaluate("(pre) => pre.children.length") == 0
    page.keyboard.press("Escape")
    source.wait_for(state="detached")

    # The key help opens where the labeler is, on screen.
    page.keyboard.press("Shift+?")
    page.get_by_test_id("key-help").wait_for(state="visible")
    page.wait_for_timeout(100)
    assert in_view(page, '[data-testid="key-help"] .lw-help__title')
    assert page.page_errors == []


MANY = """import labwidget as lw
steps = [f"Step {i}: {i} + 1 = {i + 1}" for i in range(300)]
bounded = lw.StepLabeler(prompt="Count.", steps=steps, store=lw.Store("many.db"))
bounded"""

UNBOUNDED = """lw.StepLabeler(prompt="Count again.", steps=steps[:60], store=lw.Store("many.db"),
               max_height=None)"""

LIST_OF = "(n) => document.querySelectorAll('.lw-steps__list')[n]"


def test_a_long_output_scrolls_inside_the_widget_keeping_the_cursor_in_view(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "many.ipynb", [MANY, UNBOUNDED])
    open_notebook(page, jupyter_server, "many.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").nth(1).wait_for(state="attached")
    first = page.get_by_test_id("step-labeler").first
    first.scroll_into_view_if_needed()
    scroll = page.evaluate(
        f"(n) => {{ const l = ({LIST_OF})(n); return [l.scrollHeight, l.clientHeight]; }}", 0
    )
    assert scroll[0] > 2 * scroll[1], scroll
    assert 0.6 * 900 < scroll[1] <= 0.7 * 900 + 1, scroll

    page.get_by_test_id("prompt").first.click()
    for _ in range(150):
        page.keyboard.press("j")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=step-150]')?.hasAttribute('aria-current')"
    )
    page.wait_for_timeout(200)  # the cursor is brought into view in the next frame
    assert in_view(page, '[data-testid="step-150"]', ".lw-steps__list")
    page.keyboard.press("3")
    rows = wait_for_rows(jupyter_server.root / "many.db", "SELECT step, value FROM label_events", 1)
    assert rows == [(150, 1)]
    # Scrolling the widget's own scroll area builds the blocks that come near it.
    scroll_to_last_step(page, 300)

    # Without a limit the steps grow with the output, as before.
    unbounded = page.evaluate(
        f"(n) => {{ const l = ({LIST_OF})(n); return [l.scrollHeight, l.clientHeight]; }}", 1
    )
    assert unbounded[0] == unbounded[1], unbounded
    assert unbounded[1] > 900, unbounded
    assert page.page_errors == []


KILL = """import labwidget as lw
lw.StepLabeler(prompt="What is 2+3*4?", steps=["3*4 = 12", "2+12 = 14", "So 14."],
               store=lw.Store("gone.db"))"""


def kill_kernels(server: Any) -> None:
    """Shut every kernel down through the Jupyter REST API, as a crash or a restart would."""
    for kernel in server.api("/api/kernels"):
        server.api(f"/api/kernels/{kernel['id']}", method="DELETE")


def test_after_the_kernel_dies_the_widget_says_so_and_the_page_throws_nothing(
    page: Any, jupyter_server: Any
) -> None:
    # No direct commits here: every label goes through the kernel, as without the extension.
    page.route_web_socket("**/labwidget/labels*", lambda ws: ws.close())
    write_notebook(jupyter_server.root / "gone.ipynb", [KILL])
    open_notebook(page, jupyter_server, "gone.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    page.wait_for_selector('[data-testid="step-0"][data-status="saved"]')

    kill_kernels(jupyter_server)
    page.wait_for_function(
        """() => {
      const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
      return !kernel || kernel.isDisposed || kernel.status === 'dead';
    }"""
    )
    for key in ["1", "j", "f"]:
        page.keyboard.press(key)
    gone = page.get_by_test_id("kernel-gone")
    gone.wait_for(state="visible")
    assert "Every label marked saved is in the store" in gone.inner_text()
    assert "Restart the kernel and re-run this cell" in gone.inner_text()
    page.wait_for_selector('[data-testid="step-1"][data-status="error"]')
    assert "the kernel is gone" in page.get_by_test_id("step-error-1").inner_text()
    assert page.locator('[data-testid="step-0"]').get_attribute("data-status") == "saved"
    page.wait_for_timeout(500)  # resends and the cursor's sync would throw by now
    assert page.page_errors == []


def test_labels_committed_directly_still_save_after_the_kernel_dies(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "gone_direct.ipynb", [KILL.replace("gone.db", "gd.db")])
    open_notebook(page, jupyter_server, "gone_direct.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    db = jupyter_server.root / "gd.db"
    wait_for_rows(db, "SELECT step FROM label_events", 1)

    kill_kernels(jupyter_server)
    page.wait_for_function(
        """() => {
      const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
      return !kernel || kernel.isDisposed || kernel.status === 'dead';
    }"""
    )
    page.keyboard.press("1")
    assert wait_for_rows(db, "SELECT step, value FROM label_events ORDER BY seq", 2) == [
        (0, 1),
        (1, -1),
    ]
    page.wait_for_selector('[data-testid="step-1"][data-status="saved"]')
    # The kernel cannot be told of it: the widget says what that means.
    gone = page.get_by_test_id("kernel-gone")
    gone.wait_for(state="visible")
    assert "labels the server still takes directly are saved" in gone.inner_text()
    page.wait_for_timeout(500)  # the cursor's sync has been tried too
    assert page.page_errors == []
