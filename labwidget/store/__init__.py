"""The label store: one API over an embedded SQLite file or a shared PostgreSQL database.

Plain dicts go in and come out. Labels are append-only events; the current label of a step is
the newest event for it, so history is never lost.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from labwidget.store import _migrate
from labwidget.store._engine import (
    READ_ONLY,
    check_sqlite_file,
    enable_wal,
    make_engine,
    resolve_url,
)
from labwidget.store._errors import LabelError, StoreError
from labwidget.store.schema import items, label_events, steps

__all__ = ["LabelError", "Store", "StoreError", "item_id"]

RATINGS = (-1, 0, 1)


def item_id(prompt: str, step_texts: Sequence[str]) -> str:
    """The content-hash id of an item: the same prompt and steps always give the same id.

    >>> item_id("1+1?", ["1+1=2"])
    'eaccd2ece6f563991aeabf14c5006d25'
    """
    payload = json.dumps([prompt, list(step_texts)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime) -> str:
    # SQLite hands back naive datetimes; everything the store writes is UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


class Store:
    """A label store at a file path (SQLite, created on first open) or a database URL.

    Args:
        target: a file path such as ``"labels.db"``, or a URL such as
            ``"postgresql+psycopg://user@host/db"``.
        annotator: whose labels these are; defaults to the login name.

    """

    def __init__(self, target: str | os.PathLike[str], *, annotator: str | None = None) -> None:
        self.url = resolve_url(target)
        self.annotator = annotator or _default_annotator()
        if self.url.get_backend_name() == "sqlite":
            assert self.url.database is not None
            check_sqlite_file(Path(self.url.database))
        self._engine = make_engine(self.url)
        try:
            self._open_schema()
        except Exception:
            self._engine.dispose()
            raise

    def _open_schema(self) -> None:
        head = _migrate.head_revision()
        with self._engine.connect().execution_options(**READ_ONLY) as connection:
            current = _migrate.current_revision(connection)
            tables = set(sa.inspect(connection).get_table_names())
        if current == head:
            self._enable_wal()
            return
        where = self.url.render_as_string(hide_password=True)
        if current is None and tables:
            raise StoreError(
                f"{where} holds tables but is not a labwidget store; it was left untouched. "
                "Pass a new file name or an empty database to create a store."
            )
        if current is not None and current not in _migrate.known_revisions():
            raise StoreError(
                f"{where} was written by a newer labwidget (schema {current}); "
                "upgrade labwidget to open it."
            )
        if self.url.get_backend_name() != "sqlite":
            raise StoreError(
                f"the schema of {where} is out of date ({current or 'empty'}, need {head}); "
                f"run: labwidget db upgrade {where}"
            )
        self._enable_wal()
        _migrate.upgrade(self._engine)

    def _enable_wal(self) -> None:
        if self._engine.dialect.name == "sqlite":
            enable_wal(self._engine)

    def close(self) -> None:
        """Release every connection; the store object cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that skips rows whose key is already there (idempotent writes)."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def add_item(
        self,
        prompt: str,
        step_texts: Sequence[str],
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> str:
        """Store an item (a prompt and its steps) and return its content-hash id.

        Adding the same prompt and steps again is a no-op that returns the same id.
        """
        if not isinstance(prompt, str) or any(not isinstance(s, str) for s in step_texts):
            raise TypeError("prompt and steps must be strings")
        new_id = item_id(prompt, step_texts)
        with self._engine.begin() as connection:
            connection.execute(
                self._insert(items),
                {
                    "id": new_id,
                    "dataset": dataset,
                    "prompt": prompt,
                    "meta": meta or {},
                    "source": source,
                    "created_at": _utcnow(),
                },
            )
            if step_texts:
                connection.execute(
                    self._insert(steps),
                    [
                        {"item_id": new_id, "position": i, "alt": 0, "text": t, "chosen": True}
                        for i, t in enumerate(step_texts)
                    ],
                )
        return new_id

    def items(self, *, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every item as a dict (id, dataset, prompt, steps, meta, source, created_at)."""
        query = sa.select(items).order_by(items.c.created_at, items.c.id)
        if dataset is not None:
            query = query.where(items.c.dataset == dataset)
        step_query = (
            sa.select(steps.c.item_id, steps.c.text)
            .where(steps.c.chosen)
            .order_by(steps.c.item_id, steps.c.position)
        )
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            texts: dict[str, list[str]] = {}
            for row in connection.execute(step_query):
                texts.setdefault(row.item_id, []).append(row.text)
        return [
            {
                "id": row["id"],
                "dataset": row["dataset"],
                "prompt": row["prompt"],
                "steps": texts.get(row["id"], []),
                "meta": row["meta"],
                "source": row["source"],
                "created_at": _iso(row["created_at"]),
            }
            for row in rows
        ]

    def record_label(
        self,
        *,
        event_id: str,
        item: str,
        step: int,
        value: int,
        alt: int = 0,
        annotator: str | None = None,
        source: str = "human",
        confidence: float | None = None,
        duration_ms: int | None = None,
        client_time: float | None = None,
    ) -> bool:
        """Commit one step rating (-1, 0 or +1) as a new event; True if it was new.

        An event id seen before is a retry: nothing is written and False comes back.

        Raises:
            LabelError: the value is not a rating, or the item or step does not exist.

        """
        if not isinstance(value, int) or isinstance(value, bool) or value not in RATINGS:
            raise LabelError(f"a step rating must be -1, 0 or +1, not {value!r}")
        if not event_id or len(event_id) > 64:
            raise LabelError("an event id must be 1 to 64 characters")
        row = {
            "event_id": event_id,
            "item_id": item,
            "step": step,
            "alt": alt,
            "kind": "rating",
            "value": value,
            "annotator": annotator or self.annotator,
            "source": source,
            "confidence": confidence,
            "duration_ms": duration_ms,
            "client_time": client_time,
            "created_at": _utcnow(),
        }
        with self._engine.begin() as connection:
            known = connection.execute(
                sa.select(sa.func.count())
                .select_from(steps)
                .where(steps.c.item_id == item, steps.c.position == step, steps.c.alt == alt)
            ).scalar_one()
            if not known:
                raise LabelError(f"item {item!r} has no step {step} (alternative {alt})")
            inserted = connection.execute(
                self._insert(label_events).returning(label_events.c.seq), row
            ).first()
        return inserted is not None

    def _read(self) -> sa.Connection:
        return self._engine.connect().execution_options(**READ_ONLY)

    def labels(
        self, *, item: str | None = None, annotator: str | None = None
    ) -> list[dict[str, Any]]:
        """The current label of every rated step, one dict per (item, step, alt, annotator).

        The newest event wins; older events stay in the store as history (see ``events``).
        """
        newer = label_events.alias("newer")
        superseded = sa.exists().where(
            newer.c.item_id == label_events.c.item_id,
            newer.c.step == label_events.c.step,
            newer.c.alt == label_events.c.alt,
            newer.c.annotator == label_events.c.annotator,
            newer.c.kind == label_events.c.kind,
            newer.c.seq > label_events.c.seq,
        )
        query = self._events_query(item, annotator).where(~superseded)
        return [row for row in self._event_dicts(query) if row["value"] is not None]

    def events(
        self, *, item: str | None = None, annotator: str | None = None
    ) -> list[dict[str, Any]]:
        """Every label event ever committed, oldest first: the full history."""
        return self._event_dicts(self._events_query(item, annotator))

    def _events_query(self, item: str | None, annotator: str | None) -> sa.Select[Any]:
        query = sa.select(label_events).where(label_events.c.kind == "rating")
        if item is not None:
            query = query.where(label_events.c.item_id == item)
        if annotator is not None:
            query = query.where(label_events.c.annotator == annotator)
        return query.order_by(label_events.c.seq)

    def _event_dicts(self, query: sa.Select[Any]) -> list[dict[str, Any]]:
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            {
                "event_id": row["event_id"],
                "item": row["item_id"],
                "step": row["step"],
                "alt": row["alt"],
                "value": row["value"],
                "annotator": row["annotator"],
                "source": row["source"],
                "confidence": row["confidence"],
                "duration_ms": row["duration_ms"],
                "created_at": _iso(row["created_at"]),
            }
            for row in rows
        ]

    def step_ratings(self, item: str, *, annotator: str | None = None) -> list[int | None]:
        """The current rating of each step of ``item`` by one annotator (None where unrated)."""
        with self._read() as connection:
            count = connection.execute(
                sa.select(sa.func.count())
                .select_from(steps)
                .where(steps.c.item_id == item, steps.c.alt == 0)
            ).scalar_one()
        ratings: list[int | None] = [None] * count
        for row in self.labels(item=item, annotator=annotator or self.annotator):
            if row["alt"] == 0 and row["step"] < count:
                ratings[row["step"]] = row["value"]
        return ratings
