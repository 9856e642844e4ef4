"""What ``follow`` waits on between polls, and how far it may read on PostgreSQL.

SQLite has one writer at a time, so sequence numbers are handed out in commit order and a
plain poll on ``seq`` sees every event once. PostgreSQL commits concurrent transactions in any
order, so a poll that simply took everything above the last ``seq`` seen could skip an event
whose transaction committed late. There a reader only reads up to a watermark: the highest
``seq`` allocated at an earlier moment all of whose transactions have since ended (the
transactions that drew from the sequence are those holding a lock on it, in ``pg_locks``).
Between polls it waits on ``LISTEN`` so that a ``NOTIFY`` on ``CHANNEL`` (sent by a trigger on
``label_events``) wakes it at once.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from labwidget.store._engine import READ_ONLY

CHANNEL = "labwidget_labels"  # sent by the trigger of migration 0003
SEQUENCE = "pg_get_serial_sequence('label_events', 'seq')::regclass"
HOLDERS = f"""
SELECT virtualtransaction FROM pg_locks
WHERE locktype = 'relation' AND relation = {SEQUENCE} AND pid <> pg_backend_pid()
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class Watch:
    """Waits between polls and bounds what a poll may read; ``close()`` when done."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        # (last seq handed out at a poll, the transactions then holding the sequence)
        self._pending: list[tuple[int, set[str]]] = []
        self._safe = 0
        self._raw: Any = None
        if self._postgres:
            self._raw = engine.raw_connection()
            connection: Any = self._raw.driver_connection
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self._listening = connection

    def safe_seq(self) -> int | None:
        """The highest ``seq`` below which no transaction can still commit an event.

        None on SQLite, where every ``seq`` seen is committed in order.
        """
        if not self._postgres:
            return None
        with self._engine.connect().execution_options(**READ_ONLY) as connection:
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

    def wait(self, timeout_s: float) -> None:
        """Sleep ``timeout_s``, or on PostgreSQL until a ``NOTIFY`` comes if sooner."""
        if not self._postgres:
            time.sleep(timeout_s)
            return
        for _ in self._listening.notifies(timeout=timeout_s, stop_after=1):
            pass

    def close(self) -> None:
        """Stop listening; the LISTEN must not follow the connection back into the pool."""
        if self._raw is not None:
            self._raw.invalidate()
            self._raw = None
