"""The keyboard cursor against ipywidgets' echo, in a real JupyterLab.

The page sends the cursor to Python once keys pause, and ipywidgets echoes each sent value
back. Here the test holds that echo back until the labeler has moved on, as a busy kernel would.
"""

from __future__ import annotations

import time
from typing import Any

from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)

CELL = """import labwidget as lw
lw.StepLabeler(prompt="What is 2+3*4?", steps=["3*4 = 12", "2+12 = 14", "So 14."],
               store=lw.Store("cursor.db"))"""


def hold_echoes(page: Any) -> list[Any]:
    """Routes kernel websockets through the test, holding back each ipywidgets echo.

    Returns the held messages as ``(socket, message, text)``: ``socket.send(message)`` delivers
    one, ``text`` is what it says.
    """
    held: list[Any] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_kernel(message: str | bytes) -> None:
            text = message.decode(errors="replace") if isinstance(message, bytes) else message
            if '"echo_update"' in text:
                held.append((ws, message, text))
            else:
                ws.send(message)

        server.on_message(from_kernel)
        ws.on_message(server.send)

    page.route_web_socket("**/api/kernels/*/channels*", route)
    return held


def test_a_late_echo_of_the_cursor_does_not_send_the_next_label_to_the_step_before(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "cursor.ipynb", [CELL])
    held = hold_echoes(page)
    open_notebook(page, jupyter_server, "cursor.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    db = jupyter_server.root / "cursor.db"
    query = "SELECT step, value FROM label_events ORDER BY seq"

    page.keyboard.press("3")  # step 0 correct; the cursor moves to step 1
    wait_for_rows(db, query, 1)
    # Once keys pause the page sends the cursor (1); Python echoes it, and the test holds that.
    deadline = time.monotonic() + 10
    while not any('"cursor"' in text for *_, text in held):
        assert time.monotonic() < deadline, "no echo of the cursor came"
        page.wait_for_timeout(50)
    page.keyboard.press("1")  # step 1 wrong; the cursor moves to step 2, not yet sent
    wait_for_rows(db, query, 2)

    for ws, message, _ in held:  # the echo of 1 arrives late
        ws.send(message)
    page.wait_for_timeout(200)
    page.keyboard.press("-")  # must rate step 2, not step 1 again

    assert wait_for_rows(db, query, 3) == [(0, 1), (1, -1), (2, -1)]
    assert page.page_errors == []
