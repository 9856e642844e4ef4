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
from labwidget._signing import signed_context
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
        fields = {"widget": "steps", "item": item, "steps": 2, "suggestions": [None, None]}
        signed = signed_context(store, fields, key)
        forged = signed_context(store, fields, b"a key no kernel holds")
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
            resigned = signed_context(store, {**fields, "steps": 1}, key)
        # Its kernel is gone: the server no longer vouches for what that key signs.
        assert exchange(socket, {"kind": "context", **resigned})["kind"] == "refused"
    finally:
        socket.close()


# The kernel notes each kind of message it gets from the page and what the widget then shows.
RECORDING = """import json
import os
import labwidget as lw

HEARD = []


def recording(widget_class, shown):
    class Recording(widget_class):
        def _on_custom_msg(self, widget, content, buffers):
            HEARD.append(content.get("kind"))
            super()._on_custom_msg(widget, content, buffers)  # its refresh included
            with open(f"{NAME}.tmp", "w") as out:
                json.dump({"heard": HEARD, "shown": shown(self)}, out)
            os.replace(f"{NAME}.tmp", f"{NAME}.json")  # the test never reads half a file

    return Recording
"""
LABELER = (
    RECORDING
    + """
steps = ["$3 \\\\cdot 4 = 12$", "$2+12=14$", "So 14."]
w = recording(lw.StepLabeler, lambda w: w.step_labels)(
    prompt="What is $2+3 \\\\cdot 4$?", steps=steps, store=lw.Store(f"{NAME}.db")
)
w"""
)
PAIR = (
    RECORDING
    + """
w = recording(lw.PairLabeler, lambda w: [w.preference, w.strength])(
    "What is 2+3*4?", "2+3*4 = 20", "2+3*4 = 14", store=lw.Store(f"{NAME}.db")
)
w"""
)


# True once each step row shows [status, value] as given, in order.
SHOWS = """shown => shown.every(([status, value], step) => {
    const row = document.querySelector(`[data-testid="step-${step}"]`);
    return row?.dataset.status === status && row?.dataset.value === value;
})"""


def watch_sockets(page: Any) -> dict[str, list[str]]:
    """What the page sends on the labels socket and on kernel sockets, and the replies."""
    frames: dict[str, list[str]] = {"labels": [], "kernel": [], "replies": []}

    def watch(ws: Any) -> None:
        name = "labels" if ws.url.endswith("/labwidget/labels") else "kernel"
        ws.on("framesent", lambda payload: frames[name].append(str(payload)))
        if name == "labels":
            ws.on("framereceived", lambda payload: frames["replies"].append(str(payload)))

    page.on("websocket", watch)
    return frames


def wait_until_vouched(page: Any, frames: dict[str, list[str]]) -> None:
    """Waits until the server has accepted a widget's context on the labels socket."""
    deadline = time.monotonic() + 30
    while not any('"ready"' in frame for frame in frames["replies"]):
        assert time.monotonic() < deadline, "the server never vouched for the widget's context"
        page.wait_for_timeout(50)


def notebook(server: JupyterServer, name: str, cell: str) -> str:
    """Writes ``<name>.ipynb`` with ``cell``: store ``<name>.db``, record ``<name>.json``."""
    write_notebook(server.root / f"{name}.ipynb", [f"NAME = {name!r}\n" + cell])
    return f"{name}.ipynb"


def kernel_state(server: JupyterServer, name: str, done: Any) -> dict[str, Any]:
    """What the kernel of notebook ``name`` last recorded, once ``done(state)`` holds."""
    heard = server.root / f"{name}.json"
    deadline = time.monotonic() + 30
    while True:
        state = json.loads(heard.read_text()) if heard.exists() else None
        if state is not None and done(state):
            return state
        assert time.monotonic() < deadline, f"the kernel's state stayed {state}"
        time.sleep(0.1)


def show(page: Any, server: JupyterServer, notebook_name: str, widget: str, focus: str) -> None:
    """Opens and runs a notebook, then clicks the widget's ``focus`` element as a user would."""
    open_notebook(page, server, notebook_name)
    run_all_cells(page)
    page.get_by_test_id(widget).wait_for(state="visible")
    page.get_by_test_id(focus).click()


def test_key_presses_are_committed_by_the_server_and_the_kernel_is_told(
    page: Any, jupyter_server: JupyterServer
) -> None:
    frames = watch_sockets(page)
    name = notebook(jupyter_server, "direct", LABELER)
    show(page, jupyter_server, name, "step-labeler", "prompt")
    wait_until_vouched(page, frames)

    for key in ["3", "1", "-", "u"]:
        page.keyboard.press(key)

    db = jupyter_server.root / "direct.db"
    rows = wait_for_rows(db, "SELECT step, value FROM label_events ORDER BY seq", 4)
    assert rows == [(0, 1), (1, -1), (2, -1), (2, None)]

    # The kernel heard only that they were committed, re-read the store, and shows them.
    state = kernel_state(jupyter_server, "direct", lambda state: state["shown"] == [1, -1, None])
    assert set(state["heard"]) == {"committed"}
    page.wait_for_function(SHOWS, arg=[["saved", "1"], ["saved", "-1"], ["none", ""]])
    # Playwright reports the frames before the page's answer above, so all of them are in.
    sent = [json.loads(frame) for frame in frames["labels"]]
    assert [m["kind"] for m in sent] == ["context", "label", "label", "label", "undo"]
    assert not any(
        '"kind":"label"' in frame or '"kind": "label"' in frame for frame in frames["kernel"]
    )
    assert page.page_errors == []


def test_without_the_labels_socket_key_presses_go_through_the_kernel(
    page: Any, jupyter_server: JupyterServer
) -> None:
    name = notebook(jupyter_server, "through-kernel", LABELER)
    page.route_web_socket("**/labwidget/labels", lambda ws: ws.close())
    show(page, jupyter_server, name, "step-labeler", "prompt")

    for key in ["3", "1"]:
        page.keyboard.press(key)
    page.wait_for_selector('[data-testid="step-1"][data-status="saved"]')
    rows = wait_for_rows(
        jupyter_server.root / "through-kernel.db", "SELECT step, value FROM label_events", 2
    )
    assert sorted(rows) == [(0, 1), (1, -1)]
    state = kernel_state(
        jupyter_server, "through-kernel", lambda state: state["shown"] == [1, -1, None]
    )
    assert state["heard"].count("label") == 2
    assert page.page_errors == []


def test_a_preference_is_committed_by_the_server_and_the_kernel_is_told(
    page: Any, jupyter_server: JupyterServer
) -> None:
    frames = watch_sockets(page)
    name = notebook(jupyter_server, "direct-pair", PAIR)
    show(page, jupyter_server, name, "pair-labeler", "pair-labeler")
    wait_until_vouched(page, frames)

    page.keyboard.press("Shift+B")
    page.wait_for_selector('[data-testid="pair-labeler"][data-status="saved"]')
    with sqlite3.connect(jupyter_server.root / "direct-pair.db") as con:
        rows = con.execute("SELECT preference, strength FROM preference_events").fetchall()
    assert rows == [("b", 2.0)]
    assert [json.loads(frame)["kind"] for frame in frames["labels"]] == ["context", "preference"]
    state = kernel_state(jupyter_server, "direct-pair", lambda state: state["shown"] == ["b", 2.0])
    assert set(state["heard"]) == {"committed"}
    assert page.page_errors == []
