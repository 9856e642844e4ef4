"""Direct commits through labwidget's server extension, against a real Jupyter server.

The websocket ``<base_url>labwidget/labels`` takes a login; the server commits only under a
context signed with the key of a kernel it runs now; and in Chromium a labeler's key presses
are committed over it while the kernel only hears that they were.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import websocket

import labwidget as lw
from labwidget._direct import step_context
from tests.browser.jupyterlab_driver import (
    JupyterServer,
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)


def labels_socket(server: JupyterServer, **headers: str) -> websocket.WebSocket:
    url = server.url.replace("http://", "ws://") + "/labwidget/labels"
    return websocket.create_connection(url, timeout=30, header=headers)


def exchange(socket: websocket.WebSocket, message: dict[str, Any]) -> dict[str, Any]:
    socket.send(json.dumps(message))
    reply: dict[str, Any] = json.loads(socket.recv())
    return reply


def kernel_key(server: JupyterServer, kernel_id: str) -> bytes:
    """The session key of a kernel the server runs, from its connection file."""
    connection = server.root.parent / "runtime" / f"kernel-{kernel_id}.json"
    return str(json.loads(connection.read_text())["key"]).encode()


def test_the_labels_socket_takes_a_login(jupyter_server: JupyterServer) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        labels_socket(jupyter_server)
    assert refused.value.status_code == 403
    labels_socket(jupyter_server, Authorization=f"token {jupyter_server.token}").close()


def test_the_server_commits_only_for_kernels_it_runs(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    with lw.Store(tmp_path / "labels.db", annotator="ada") as store:
        item = store.add_item("What is 2+3*4?", ["3*4=12", "2+12=14"])
        kernel_id = jupyter_server.api("/api/kernels", method="POST")["id"]
        key = kernel_key(jupyter_server, kernel_id)
        signed = step_context(store, item, 2, [None, None], key)
        forged = step_context(store, item, 2, [None, None], b"a key no kernel holds")
    socket = labels_socket(jupyter_server, Authorization=f"token {jupyter_server.token}")
    try:
        assert exchange(socket, {"kind": "context", **forged})["kind"] == "refused"
        assert exchange(socket, {"kind": "context", **signed})["kind"] == "ready"
        label = {
            "kind": "label",
            "id": str(uuid.uuid4()),
            "item": item,
            "step": 1,
            "alt": 0,
            "label": "rating",
            "value": 1,
            "context": signed["signature"],
        }
        assert exchange(socket, label) == {"kind": "ack", "id": label["id"]}
        with sqlite3.connect(tmp_path / "labels.db") as con:
            rows = con.execute("SELECT event_id, step, value, annotator FROM label_events")
            assert rows.fetchall() == [(label["id"], 1, 1, "ada")]
        forged_label = {**label, "id": str(uuid.uuid4()), "context": forged["signature"]}
        assert exchange(socket, forged_label)["kind"] == "error"

        jupyter_server.api(f"/api/kernels/{kernel_id}", method="DELETE")
        with lw.Store(tmp_path / "labels.db", annotator="ada") as store:
            resigned = step_context(store, item, 1, [None, None], key)
        # Its kernel is gone: the server no longer vouches for what that key signs.
        assert exchange(socket, {"kind": "context", **resigned})["kind"] == "refused"
    finally:
        socket.close()


LABELER = """import json
import os
import labwidget as lw

HEARD = []  # the kinds of message the kernel got from the page


class Recording(lw.StepLabeler):
    def _on_custom_msg(self, widget, content, buffers):
        HEARD.append(content.get("kind"))
        super()._on_custom_msg(widget, content, buffers)  # its refresh included
        with open("heard.tmp", "w") as out:
            json.dump({"heard": HEARD, "step_labels": self.step_labels}, out)
        os.replace("heard.tmp", "heard.json")  # the test never reads half a file


store = lw.Store("direct.db")
steps = ["$3 \\\\cdot 4 = 12$", "$2+12=14$", "So 14."]
w = Recording(prompt="What is $2+3 \\\\cdot 4$?", steps=steps, store=store)
w"""


def kernel_state(server: JupyterServer, done: Any) -> dict[str, Any]:
    """What the notebook's kernel last wrote to heard.json, once ``done(state)`` holds."""
    heard = server.root / "heard.json"
    deadline = time.monotonic() + 30
    while True:
        state = json.loads(heard.read_text()) if heard.exists() else None
        if state is not None and done(state):
            return state
        assert time.monotonic() < deadline, f"the kernel's state stayed {state}"
        time.sleep(0.1)


def test_key_presses_are_committed_by_the_server_and_the_kernel_is_told(
    page: Any, jupyter_server: JupyterServer
) -> None:
    write_notebook(jupyter_server.root / "direct.ipynb", [LABELER])
    frames: dict[str, list[str]] = {"labels": [], "kernel": [], "vouched": []}

    def watch(ws: Any) -> None:
        name = "labels" if ws.url.endswith("/labwidget/labels") else "kernel"
        ws.on("framesent", lambda payload: frames[name].append(str(payload)))
        if name == "labels":
            ws.on("framereceived", lambda payload: frames["vouched"].append(str(payload)))

    page.on("websocket", watch)
    open_notebook(page, jupyter_server, "direct.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    deadline = time.monotonic() + 30
    while not any('"ready"' in frame for frame in frames["vouched"]):
        assert time.monotonic() < deadline, "the server never vouched for the widget's context"
        page.wait_for_timeout(50)

    for key in ["3", "1", "-", "u"]:
        page.keyboard.press(key)
    page.wait_for_selector('[data-testid="step-2"][data-status="saved"]')

    db = jupyter_server.root / "direct.db"
    rows = wait_for_rows(db, "SELECT step, value FROM label_events ORDER BY seq", 4)
    assert rows == [(0, 1), (1, -1), (2, -1), (2, None)]
    sent = [json.loads(frame) for frame in frames["labels"]]
    assert [m["kind"] for m in sent] == ["context", "label", "label", "label", "undo"]
    assert not any(
        '"kind":"label"' in frame or '"kind": "label"' in frame for frame in frames["kernel"]
    )

    # The kernel heard only that they were committed, re-read the store, and shows them.
    state = kernel_state(jupyter_server, lambda state: state["step_labels"] == [1, -1, None])
    assert set(state["heard"]) == {"committed"}
    assert page.page_errors == []


def test_without_the_labels_socket_key_presses_go_through_the_kernel(
    page: Any, jupyter_server: JupyterServer
) -> None:
    write_notebook(
        jupyter_server.root / "no-direct.ipynb", [LABELER.replace("direct.db", "kernel.db")]
    )
    page.route_web_socket("**/labwidget/labels", lambda ws: ws.close())
    open_notebook(page, jupyter_server, "no-direct.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()

    for key in ["3", "1"]:
        page.keyboard.press(key)
    page.wait_for_selector('[data-testid="step-1"][data-status="saved"]')
    rows = wait_for_rows(
        jupyter_server.root / "kernel.db", "SELECT step, value FROM label_events", 2
    )
    assert sorted(rows) == [(0, 1), (1, -1)]
    state = kernel_state(jupyter_server, lambda state: state["step_labels"] == [1, -1, None])
    assert state["heard"].count("label") == 2
    assert page.page_errors == []
