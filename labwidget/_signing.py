"""The kernel's signed word that the server extension may commit a widget's events itself.

Through the kernel a label travels page → server → kernel → store → kernel → server → page; on
a 2-core machine that trip alone (a bare anywidget echo) takes ~7 ms at p50, over the 5 ms a
keypress → ack may take. So the kernel hands the trip's middle to labwidget's server extension
while still deciding what may be written: it signs a *context* (the SQLite file, the annotator,
and what the widget shows, ``labwidget.commits``) with its session key, the HMAC key the Jupyter
server already shares with it to sign every kernel message. The widgets sign here; the server
(``labwidget.server``) checks the signature against the keys of the kernels it runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from functools import cache
from importlib.metadata import version
from typing import Any

from labwidget.store import Store

# Bumped whenever a context's fields or an event's handling change meaning.
PROTOCOL = 1


@cache
def labwidget_version() -> str:
    """The installed labwidget's version: a context is only good for the same one."""
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

    ``fields`` say what the widget shows (``labwidget.commits.steps_context`` or
    ``pair_context``). The context is sent as text and signed as that text, so the page never
    re-encodes it. A PostgreSQL store gets none: its URL may hold a password, and traits are
    saved in the notebook.
    """
    database = store.url.database
    if key is None or store.backend != "sqlite" or not database or database == ":memory:":
        return {}
    context = {
        "protocol": PROTOCOL,
        "version": labwidget_version(),
        "store": os.path.abspath(database),
        "annotator": store.annotator,
        **fields,
    }
    text = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    return {"context": text, "signature": sign(text, key)}
