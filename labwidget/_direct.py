"""Direct commits: the Jupyter server writes a label on its kernel's signed word, and acks it.

Through the kernel a label travels page → server → kernel → store → kernel → server → page; on
a 2-core machine that trip alone (a bare anywidget echo) takes ~7 ms at p50, over the 5 ms a
keypress → ack may take. So the kernel hands the trip's middle to labwidget's server extension
while still deciding what may be written: it signs a *context* (the SQLite file, the annotator,
the item, its step count and suggestions) with its session key, the HMAC key the Jupyter server
already shares with it to sign every kernel message. The page passes the context on once; the
server checks the signature against the keys of the kernels it runs and from then on commits
that context's events with the kernel's own code (``labwidget.widgets._commits``) and acks.
The page then tells the kernel, which re-reads what is saved. A pair's context names its
comparison instead of an item.

Whatever the server cannot vouch for is refused and the page keeps sending through the kernel:
a PostgreSQL store (its URL may hold a password, and traits are saved in the notebook), a
kernel this server did not start, another labwidget version, a store the server cannot open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from typing import Any

from labwidget.store import LabelError, Store, StoreError
from labwidget.widgets._commits import commit_preference, commit_step_label, commit_step_undo

log = logging.getLogger("labwidget")
# Bumped whenever a context's fields or an event's handling change meaning.
PROTOCOL = 1
# Contexts kept by the server (one per item shown); the oldest go first.
MAX_CONTEXTS = 1024


class DirectRefused(Exception):
    """The server will not commit for this context; the page sends through the kernel instead."""


@cache
def _labwidget_version() -> str:
    return version("labwidget")


def kernel_key() -> bytes | None:
    """The session key of the ipykernel this runs in, or None outside one (or if it is unset)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - labwidget depends on ipywidgets, hence IPython
        return None
    kernel = getattr(get_ipython(), "kernel", None)
    key = getattr(getattr(kernel, "session", None), "key", b"")
    return key if isinstance(key, bytes) and key else None


def sign(text: str, key: bytes) -> str:
    """The HMAC-SHA256 of a context's text under a kernel's session key, as hex."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed_context(store: Store, fields: dict[str, Any], key: bytes | None) -> dict[str, str]:
    """A widget's ``_direct`` trait: its context signed with ``key``, or ``{}`` where there is none.

    ``fields`` say what the widget shows: ``{"widget": "steps", "item", "steps",
    "suggestions"}`` or ``{"widget": "pair", "comparison"}``. The context is sent as text and
    signed as that text, so the page never re-encodes it.
    """
    database = store.url.database
    if key is None or store.backend != "sqlite" or not database or database == ":memory:":
        return {}
    context = {
        "protocol": PROTOCOL,
        "version": _labwidget_version(),
        "store": os.path.abspath(database),
        "annotator": store.annotator,
        **fields,
    }
    text = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    return {"context": text, "signature": sign(text, key)}


class DirectCommits:
    """The server's side: contexts a running kernel signed, the stores they name, and commits.

    Not thread-safe: the server calls it from one worker thread, which also keeps each page's
    events in the order they were sent.
    """

    def __init__(self) -> None:
        self._contexts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._stores: dict[tuple[str, str], tuple[Store, tuple[int, int]]] = {}

    def handle(self, message: Any, keys: Iterable[bytes]) -> dict[str, Any]:
        """The reply to one message from a page: a context to vouch for, or an event to commit.

        ``keys`` are the session keys of the kernels the server runs now.
        """
        if not isinstance(message, dict):
            return {
                "kind": "error",
                "id": None,
                "message": "not saved: a message must be an object",
            }
        if message.get("kind") == "context":
            signature = message.get("signature")
            try:
                self.register(message.get("context"), signature, keys)
            except DirectRefused as exc:
                return {"kind": "refused", "signature": signature, "message": str(exc)}
            return {"kind": "ready", "signature": signature}
        event_id = message.get("id")
        try:
            self.commit(message.get("context"), message)
        except (LabelError, StoreError, KeyError, TypeError, ValueError) as exc:
            return {"kind": "error", "id": event_id, "message": f"not saved: {exc}"}
        except Exception as exc:  # as in the kernel: a failed write must reach the page
            log.exception("labwidget could not store event %s", event_id)
            message = f"not saved: {type(exc).__name__}: {exc}"
            return {"kind": "error", "id": event_id, "message": message}
        return {"kind": "ack", "id": event_id}

    def register(self, text: Any, signature: Any, keys: Iterable[bytes]) -> None:
        """Accept a context that one of ``keys`` signed, and open its store now.

        Raises:
            DirectRefused: no key signed it, it is for another labwidget, or its store won't open.
        """
        if not isinstance(text, str) or not isinstance(signature, str):
            raise DirectRefused("a context is its text and its signature")
        if not any(hmac.compare_digest(sign(text, key), signature) for key in keys if key):
            raise DirectRefused("no kernel of this server signed this context")
        context = json.loads(text)
        if context.get("protocol") != PROTOCOL or context.get("version") != _labwidget_version():
            raise DirectRefused(
                f"the kernel runs labwidget {context.get('version')} (protocol "
                f"{context.get('protocol')}), the server {_labwidget_version()} ({PROTOCOL})"
            )
        try:
            self._store(context)
        except Exception as exc:  # whatever keeps it from opening, the kernel's path remains
            raise DirectRefused(f"the server cannot open the store: {exc}") from exc
        self._contexts[signature] = context
        self._contexts.move_to_end(signature)
        while len(self._contexts) > MAX_CONTEXTS:
            self._contexts.popitem(last=False)

    def commit(self, signature: Any, event: dict[str, Any]) -> None:
        """Commit an event under the context signed ``signature``, as its widget's kernel would.

        A step labeler's context takes ``label`` and ``undo`` events, a pair's ``preference``.

        Raises:
            LabelError, ValueError: as the kernel raises them for the same event.
            StoreError: the context is unknown, or its store file was removed.
        """
        context = self._contexts.get(signature) if isinstance(signature, str) else None
        if context is None:
            raise StoreError("the server has no context with this signature; send it first")
        store = self._store(context)
        widget, kind = context.get("widget"), event.get("kind")
        if widget == "steps" and kind == "label":
            item, steps = context["item"], context["steps"]
            commit_step_label(store, item, steps, context["suggestions"], event)
        elif widget == "steps" and kind == "undo":
            commit_step_undo(store, context["item"], context["steps"], event)
        elif widget == "pair" and kind == "preference":
            commit_preference(store, context["comparison"], event)
        else:
            raise ValueError(f"a {widget} widget sends no {kind!r} messages")

    def close(self) -> None:
        """Close every store this opened."""
        for store, _ in self._stores.values():
            store.close()
        self._stores.clear()

    def _store(self, context: dict[str, Any]) -> Store:
        """The context's store, opened once; opened again if its file was replaced since.

        A removed file is an error, not a new empty store: a label acked into a deleted file
        would be lost.
        """
        path, annotator = context["store"], context["annotator"]
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise StoreError(f"the store {path} does not exist (was it removed?)") from None
        identity = (stat.st_dev, stat.st_ino)
        opened = self._stores.get((path, annotator))
        if opened is not None and opened[1] == identity:
            return opened[0]
        if opened is not None:
            opened[0].close()
        store = Store(path, annotator=annotator)
        self._stores[(path, annotator)] = (store, identity)
        return store
