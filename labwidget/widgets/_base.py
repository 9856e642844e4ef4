"""LabWidget: what every labwidget widget shares — its bundle, its store, the event/ack protocol.

The browser sends each label as a custom message ``{kind, id, ...}`` with an id it made. Python
commits it in its own transaction (``labwidget.commits``, as the server extension would) and only
then replies ``{kind: "ack", id}``, so the page marks a label saved only once it is durable; a
failure replies ``{kind: "error", id, message}``.

The ack is what the labeler waits for, so a handler may leave work that only refreshes the
widget's traits (re-reading what is saved) as a follow-up: it runs right after the ack is sent,
and its state update reaches the page after the ack instead of holding it up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from labwidget._bundle import STATIC, digest
from labwidget.commits import reply
from labwidget.store import Store
from labwidget.widgets._wire import open_comm

# The longest an ack's follow-up waits for ipykernel to have sent the ack.
ACK_SEND_WAIT_S = 0.05
log = logging.getLogger("labwidget")

FollowUp = Callable[[], None]
# A handler commits the event; what it returns runs after the ack.
Handler = Callable[[dict[str, Any]], FollowUp | None]


def front_end(name: str) -> tuple[Path, Path | str]:
    """A widget's ``_esm`` and ``_css``: the loader, which gets the bundle ``name`` once per page.

    With ``ANYWIDGET_HMR=1`` (``npm run dev``) they are the bundle's own files, which anywidget
    sends again whenever a build changes them.
    """
    if os.environ.get("ANYWIDGET_HMR") == "1":
        return STATIC / f"{name}.js", STATIC / f"{name}.css"
    return STATIC / "loader.js", ""


def bundle_trait(name: str) -> dict[str, Any]:
    """The ``_bundle`` trait naming bundle ``name`` by its files' digests (js/loader.ts)."""
    return {"name": name, "js": digest(f"{name}.js"), "css": digest(f"{name}.css")}


def bundle_reply(name: str, request_id: Any) -> dict[str, Any]:
    """The front end's own files, for a page whose server cannot serve them (js/loader.ts)."""
    try:
        files = {
            "esm": (STATIC / f"{name}.js").read_text(encoding="utf-8"),
            "css": (STATIC / f"{name}.css").read_text(encoding="utf-8"),
        }
    except OSError as exc:  # e.g. a source checkout whose front end was never built
        message = f"cannot read labwidget's front end ({exc}); run `npm run build`"
        return {"kind": "bundle", "id": request_id, "error": message}
    return {"kind": "bundle", "id": request_id, **files}


class LabWidget(anywidget.AnyWidget):
    """Base of the labeling widgets: binds a store and answers every event with an ack or error."""

    # Which bundle under labwidget/static the page's loader needs (js/loader.ts).
    _bundle_name: ClassVar[str] = ""
    _bundle = traitlets.Dict(
        help="The front end to load: {name, js, css}, the files' content digests."
    ).tag(sync=True)
    _direct = traitlets.Dict(
        help="The kernel's signed word that labwidget's server extension may commit this "
        "widget's events itself (labwidget._signing): {context, signature}, or {} where not."
    ).tag(sync=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A widget names its bundle; its _esm and _css follow, set before anywidget reads them.
        if "_bundle_name" in cls.__dict__:
            cls._esm, cls._css = front_end(cls._bundle_name)
        super().__init_subclass__(**kwargs)

    def __init__(self, *, store: Store, **traits: Any) -> None:
        traits["_bundle"] = bundle_trait(self._bundle_name)
        super().__init__(**traits)
        self.store = store
        # Comm messages may arrive on a kernel subshell thread while the main thread runs a cell.
        self._lock = threading.Lock()
        self.on_msg(self._on_custom_msg)

    def open(self) -> None:
        """Opens the comm as ipywidgets does, in one message, finding buffers faster (_wire)."""
        open_comm(self)

    def _handlers(self) -> dict[str, Handler]:
        """The message kinds this widget accepts, each with its handler.

        A handler of an event that writes commits it with ``labwidget.commits.commit``, under
        the widget's context: the same code the server extension runs for the same event.
        """
        return {}

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event_id = content.get("id")
        if content.get("kind") == "bundle":
            self.send(bundle_reply(self._bundle_name, event_id))
            return
        handler = self._handlers().get(str(content.get("kind")))
        if handler is None:
            self._reply_error(event_id, f"unknown message kind {content.get('kind')!r}")
            return
        try:
            with self._lock:
                follow_up = handler(content)
        except Exception as exc:  # a failed write must reach the page, never vanish in the kernel
            self.send(reply(event_id, exc))
            return
        self.send(reply(event_id))
        if follow_up is None:
            return
        self._wait_until_sent()
        try:
            with self._lock:
                follow_up()
        except Exception:  # the event is stored and acked; only the widget's view of it is stale
            log.exception("labwidget stored event %s but could not refresh the widget", event_id)

    def _wait_until_sent(self) -> None:
        """Blocks until ipykernel's IOPub thread has sent what is queued (the ack), or 50 ms.

        That thread sends every message and needs the GIL to do it; a follow-up started at once
        would hold the GIL for up to the interpreter's switch interval (5 ms) first. Outside
        ipykernel there is no such thread and this returns at once.
        """
        kernel = getattr(self.comm, "kernel", None)
        schedule = getattr(getattr(kernel, "iopub_thread", None), "schedule", None)
        if not callable(schedule):
            return
        sent = threading.Event()
        schedule(sent.set)
        sent.wait(ACK_SEND_WAIT_S)

    def _reply_error(self, event_id: Any, message: str) -> None:
        self.send({"kind": "error", "id": event_id, "message": message})
