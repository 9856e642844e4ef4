"""follow(): label events as they land, in commit order, for a training loop fed live.

SQLite has one writer at a time, so sequence numbers are handed out in commit order and a
plain poll on ``seq`` sees every event once. PostgreSQL commits concurrent transactions in any
order, so a poll that simply took everything above the last ``seq`` seen could skip an event
whose transaction committed late. There ``follow`` only reads up to a watermark: the highest
``seq`` allocated at an earlier moment all of whose transactions have since ended (the
transactions that drew from the sequence are those holding a lock on it, in ``pg_locks``).
Between polls it waits on ``LISTEN`` so that a ``NOTIFY`` on ``CHANNEL`` (sent by a trigger on
``label_events``) wakes it at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from labwidget.store import Store
from labwidget.store._queries import event_dict
from labwidget.store.schema import label_events

CHANNEL = "labwidget_labels"  # sent by the trigger of migration 0003
CHUNK = 1_000
SEQUENCE = "pg_get_serial_sequence('label_events', 'seq')::regclass"
HOLDERS = f"""
SELECT virtualtransaction FROM pg_locks
WHERE locktype = 'relation' AND relation = {SEQUENCE} AND pid <> pg_backend_pid()
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


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
    watermark = _PgWatermark(store) if store.backend == "postgresql" else None
    waiter = _Listener(store) if watermark is not None else None
    last = _max_seq(store) if since is None else since
    quiet_since = time.monotonic()
    try:
        while True:
            upto = watermark.safe_seq() if watermark is not None else None
            found = False
            for event in _events_after(store, last, upto, kind):
                found = True
                last = event["seq"]
                yield event
            if upto is not None:
                last = max(last, upto)
            now = time.monotonic()
            if found:
                quiet_since = now
            elif idle_s is not None and now - quiet_since >= idle_s:
                return
            if waiter is not None:
                waiter.wait(poll_s)
            else:
                time.sleep(poll_s)
    finally:
        if waiter is not None:
            waiter.close()


def _max_seq(store: Store) -> int:
    with store._read() as connection:
        found = connection.execute(sa.select(sa.func.max(label_events.c.seq))).scalar_one()
    return int(found or 0)


def _events_after(
    store: Store, last: int, upto: int | None, kind: str | None
) -> Iterator[dict[str, Any]]:
    while True:
        query = sa.select(label_events).where(label_events.c.seq > last)
        if upto is not None:
            query = query.where(label_events.c.seq <= upto)
        if kind is not None:
            query = query.where(label_events.c.kind == kind)
        with store._read() as connection:
            rows = connection.execute(query.order_by(label_events.c.seq).limit(CHUNK)).all()
        for row in rows:
            yield {**event_dict(row), "seq": row.seq}
        if len(rows) < CHUNK:
            return
        last = rows[-1].seq


class _PgWatermark:
    """The highest ``seq`` below which no transaction can still commit an event."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # (last seq handed out at a poll, the transactions then holding the sequence)
        self._pending: list[tuple[int, set[str]]] = []
        self._safe = 0

    def safe_seq(self) -> int:
        with self._store._read() as connection:
            # nextval() locks the sequence until its transaction ends, so every transaction
            # that drew a seq up to `allocated` either has ended or is among `holders`. (A
            # snapshot's running xids would miss one descheduled between nextval and its row.)
            allocated = connection.exec_driver_sql(
                f"SELECT pg_sequence_last_value({SEQUENCE})"
            ).scalar_one()
            holders = set(connection.exec_driver_sql(HOLDERS).scalars())
        self._pending.append((int(allocated or 0), holders))
        settled = [seq for seq, then in self._pending if not then & holders]
        self._pending = [(seq, then) for seq, then in self._pending if then & holders]
        self._safe = max([self._safe, *settled])
        return self._safe


class _Listener:
    """A dedicated connection LISTENing on ``CHANNEL``; a NOTIFY ends a wait early."""

    def __init__(self, store: Store) -> None:
        self._raw = store._engine.raw_connection()
        connection: Any = self._raw.driver_connection
        connection.autocommit = True
        connection.execute(f"LISTEN {CHANNEL}")
        self._connection = connection

    def wait(self, timeout_s: float) -> None:
        for _ in self._connection.notifies(timeout=timeout_s, stop_after=1):
            pass

    def close(self) -> None:
        # The LISTEN must not follow the connection back into the pool.
        self._raw.invalidate()
