"""Direct commits: the Jupyter server writes a label on its kernel's signed word, and acks it.

The page passes the context its kernel signed (``labwidget._signing``) on once; the server
checks the signature against the keys of the kernels it runs and from then on commits that
context's events with the kernel's own code (``labwidget.commits``) and acks. The page then
tells the kernel, which re-reads what is saved. A pair's context names its comparison instead of
an item.

Whatever the server cannot vouch for is refused and the page keeps sending through the kernel:
a PostgreSQL store (its URL may hold a password, and traits are saved in the notebook), a
kernel this server did not start, another labwidget version, a store the server cannot open.
"""

from __future__ import annotations

import hmac
import json
import os
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from labwidget._signing import PROTOCOL, labwidget_version, sign
from labwidget.commits import commit, reply
from labwidget.store import Store, StoreError

# Contexts kept by the server (one per item shown); the oldest go first.
MAX_CONTEXTS = 1024


class DirectRefused(Exception):
    """The server will not commit for this context; the page sends through the kernel instead."""


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
            return reply(None, TypeError("a message must be an object"))
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
        except Exception as exc:  # as in the kernel: a failed write must reach the page
            return reply(event_id, exc)
        return reply(event_id)

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
        if context.get("protocol") != PROTOCOL or context.get("version") != labwidget_version():
            raise DirectRefused(
                f"the kernel runs labwidget {context.get('version')} (protocol "
                f"{context.get('protocol')}), the server {labwidget_version()} ({PROTOCOL})"
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

        What a context's widget may send is ``labwidget.commits.COMMITS``: a step labeler's
        ``label`` and ``undo`` events, a pair's ``preference``.

        Raises:
            LabelError, ValueError: as the kernel raises them for the same event.
            StoreError: the context is unknown, or its store file was removed.
        """
        context = self._contexts.get(signature) if isinstance(signature, str) else None
        if context is None:
            raise StoreError("the server has no context with this signature; send it first")
        commit(self._store(context), context, event)

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
