"""LabWidget: what every labwidget widget shares — its bundle, its store, the event/ack protocol.

The browser sends each label as a custom message ``{kind, id, ...}`` with an id it made. Python
commits it in its own transaction and only then replies ``{kind: "ack", id}``, so the page marks
a label saved only once it is durable; a failure replies ``{kind: "error", id, message}``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget

from labwidget.store import LabelError, Store

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("labwidget")

Handler = Callable[[dict[str, Any]], None]


class LabWidget(anywidget.AnyWidget):
    """Base of the labeling widgets: binds a store and answers every event with an ack or error."""

    def __init__(self, *, store: Store, **traits: Any) -> None:
        super().__init__(**traits)
        self.store = store
        # Comm messages may arrive on a kernel subshell thread while the main thread runs a cell.
        self._lock = threading.Lock()
        self.on_msg(self._on_custom_msg)

    def _handlers(self) -> dict[str, Handler]:
        """The message kinds this widget accepts, each with its handler."""
        return {}

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event_id = content.get("id")
        handler = self._handlers().get(str(content.get("kind")))
        if handler is None:
            self._reply_error(event_id, f"unknown message kind {content.get('kind')!r}")
            return
        try:
            with self._lock:
                handler(content)
        except (LabelError, KeyError, TypeError, ValueError) as exc:
            self._reply_error(event_id, f"not saved: {exc}")
        except Exception as exc:  # a failed write must reach the page, never vanish in the kernel
            log.exception("labwidget could not store event %s", event_id)
            self._reply_error(event_id, f"not saved: {type(exc).__name__}: {exc}")
        else:
            self.send({"kind": "ack", "id": event_id})

    def _reply_error(self, event_id: Any, message: str) -> None:
        self.send({"kind": "error", "id": event_id, "message": message})
