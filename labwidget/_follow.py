"""follow(): label events as they land, in commit order, for a training loop fed live.

The store gives the pieces (``Store.events_after``, ``Store.last_seq``, ``Store.watch``): on
PostgreSQL a poll reads only up to the watch's watermark, so an event whose transaction commits
late is never skipped, and a ``NOTIFY`` ends a wait early; on SQLite it polls on ``seq``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from labwidget.store import Store

CHUNK = 1_000  # events per read


def follow(
    store: Store,
    *,
    kind: str | None = "rating",
    since: int | None = None,
    poll_s: float = 0.1,
    idle_s: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield label events as they are committed, oldest first, each exactly once.

    Each event is the dict ``Store.events`` gives, plus its ``seq``: pass the last ``seq`` you
    consumed as ``since`` to resume after a restart without gaps or repeats.

    Args:
        store: the store to watch.
        kind: only events of this kind (None: every kind).
        since: start after this ``seq``; ``0`` replays the whole history first, None (the
            default) starts with the next event committed.
        poll_s: the longest wait between two looks at the store.
        idle_s: stop after this many seconds without a new event (None: never stop).
    """
    if poll_s <= 0:
        raise ValueError("poll_s must be > 0")
    return _follow(store, kind, since, poll_s, idle_s)


def _follow(
    store: Store, kind: str | None, since: int | None, poll_s: float, idle_s: float | None
) -> Iterator[dict[str, Any]]:
    watch = store.watch()
    last = store.last_seq() if since is None else since
    quiet_since = time.monotonic()
    try:
        while True:
            upto = watch.safe_seq()
            found = False
            while True:
                events = store.events_after(last, upto=upto, kind=kind, limit=CHUNK)
                for event in events:
                    found = True
                    last = event["seq"]
                    yield event
                if len(events) < CHUNK:
                    break
            if upto is not None:
                last = max(last, upto)
            now = time.monotonic()
            if found:
                quiet_since = now
            elif idle_s is not None and now - quiet_since >= idle_s:
                return
            watch.wait(poll_s)
    finally:
        watch.close()
