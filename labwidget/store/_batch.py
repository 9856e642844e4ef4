"""Batch: many items and labels written in one transaction, in chunks, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from labwidget.store import _postgres, _token_scores, _upkeep
from labwidget.store._errors import LabelError
from labwidget.store._events import (
    LabelFields,
    Provenance,
    StepSpec,
    alternatives_of,
    check_duration,
    check_event,
    check_fields,
    check_preference,
    check_source,
    clean_text,
    content_id,
    item_content_id,
    new_event_id,
    stored_time,
)
from labwidget.store._queries import ITEM_SHAPE, step_counts
from labwidget.store.schema import (
    comparisons,
    items,
    label_events,
    preference_events,
    steps,
    token_scores,
)

if TYPE_CHECKING:
    from typing import Unpack

FLUSH_ROWS = 20_000
FLUSH_TOKEN_SCORES = 256
# Below this many rows, COPY's staging table costs more than it saves.
COPY_FROM_ROWS = 1_000
EVENT_COLUMNS = (
    "event_id", "item_id", "step", "alt", "kind", "value", "annotator", "source", "confidence",
    "duration_ms", "client_time", "created_at", "text", "score", "meta",
)  # fmt: skip
PREFERENCE_COLUMNS = (
    "event_id", "comparison_id", "preference", "strength", "annotator", "source", "confidence",
    "duration_ms", "client_time", "created_at",
)  # fmt: skip
SQLITE_SHAPE_SQL = str(ITEM_SHAPE.compile(dialect=sqlite.dialect()))


class Batch:
    """Buffers writes and sends them in chunks inside one open transaction.

    Leaving the ``with`` block commits everything; an exception inside it rolls everything
    back, so an import that fails half-way leaves the store as it was.
    """

    def __init__(self, annotator: str, connection: sa.Connection) -> None:
        self._annotator = annotator
        self._connection = connection
        self._items: list[dict[str, Any]] = []
        self._steps: list[dict[str, Any]] = []
        self._comparisons: list[dict[str, Any]] = []
        self._events: list[tuple[Any, ...]] = []
        self._preferences: list[tuple[Any, ...]] = []
        self._token_scores: list[dict[str, Any]] = []
        # item id -> number of alternatives at each step position, for checking labels cheaply
        self._shapes: dict[str, list[int]] = {}
        self._known_comparisons: set[str] = set()
        self._sqlite_cursor: Any = None
        self.written = 0

    def add_item(
        self,
        prompt: str,
        step_specs: Sequence[StepSpec],
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Add an item (see ``Store.add_item``); returns its content-hash id."""
        if not isinstance(prompt, str):
            raise TypeError("the prompt must be a string")
        prompt = clean_text(prompt)
        positions = alternatives_of(step_specs)
        new_id = item_content_id(prompt, positions)
        if new_id in self._shapes:
            return new_id
        self._shapes[new_id] = [len(texts) for texts in positions]
        self._items.append(
            {
                "id": new_id,
                "dataset": dataset,
                "prompt": prompt,
                "meta": meta or {},
                "source": source,
                "created_at": stored_time(created_at),
            }
        )
        self._steps.extend(
            {"item_id": new_id, "position": p, "alt": a, "text": text, "chosen": a == 0}
            for p, texts in enumerate(positions)
            for a, text in enumerate(texts)
        )
        self._maybe_flush()
        return new_id

    def _shape(self, item: str) -> list[int]:
        shape = self._shapes.get(item)
        if shape is None:
            if self._connection.dialect.name == "sqlite":
                # Straight to the driver: a bulk import asks once per item, and SQLAlchemy's
                # per-statement overhead was several times SQLite's own work.
                if self._sqlite_cursor is None:
                    self._sqlite_cursor = self._connection.connection.cursor()
                rows = self._sqlite_cursor.execute(SQLITE_SHAPE_SQL, (item,)).fetchall()
            else:
                rows = self._connection.execute(ITEM_SHAPE, {"item": item}).all()
            shape = step_counts(rows)
            self._shapes[item] = shape
        return shape

    def record(self, kind: str, *, item: str, **event: Unpack[LabelFields]) -> str:
        """Add one label event (see ``Store.record``); returns its event id."""
        check_fields(event, LabelFields, "record")
        step, alt, value = event.get("step"), event.get("alt", 0), event.get("value")
        text, score = event.get("text"), event.get("score")
        check_event(kind, step, value, text, score)
        event_id, *provenance = self._provenance(event)
        text = None if text is None else clean_text(text)
        shape = self._shape(item)
        if step is not None and not (0 <= step < len(shape) and 0 <= alt < shape[step]):
            raise LabelError(f"item {item!r} has no step {step} (alternative {alt})")
        if kind == "choice" and step is not None and value is not None and value >= shape[step]:
            raise LabelError(f"step {step} of item {item!r} has no alternative {value}")
        if kind == "choice" and alt != 0:
            raise LabelError(
                "a choice is one per step: record it at alt 0, its value names the alternative"
            )
        self._events.append(
            (
                event_id, item, step, alt, kind, value, *provenance, text,
                None if score is None else float(score), event.get("meta"),
            )
        )  # fmt: skip
        self._maybe_flush()
        return str(event_id)

    def _provenance(self, event: Provenance) -> tuple[Any, ...]:
        """``event_id``, then the columns from ``annotator`` to ``created_at`` as stored, checked.

        In that order both event tables hold them (``EVENT_COLUMNS``, ``PREFERENCE_COLUMNS``).
        """
        duration_ms, source = event.get("duration_ms"), event.get("source", "human")
        check_duration(duration_ms)
        check_source(source)
        event_id = event.get("event_id") or new_event_id()
        if not 0 < len(event_id) <= 64:
            raise LabelError("an event id must be 1 to 64 characters")
        return (
            event_id, event.get("annotator") or self._annotator, source, event.get("confidence"),
            duration_ms, event.get("client_time"), stored_time(event.get("created_at")),
        )  # fmt: skip

    def add_token_scores(
        self,
        item: str,
        tokens: Sequence[str],
        scores: Sequence[float],
        step_token_counts: Sequence[int],
        *,
        kind: str = "logprob",
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Keep per-token scores with an item (see ``Store.add_token_scores``)."""
        steps_of_item = len(self._shape(item))
        if not steps_of_item:
            raise LabelError(f"there is no item {item!r}")
        self._token_scores.append(
            _token_scores.row(
                item, tokens, scores, step_token_counts, steps=steps_of_item, kind=kind, meta=meta
            )
        )
        self._maybe_flush()

    def add_comparison(
        self,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Add a pair of answers to compare (see ``Store.add_comparison``); returns its id."""
        if not all(isinstance(t, str) for t in (prompt, answer_a, answer_b)):
            raise TypeError("the prompt and both answers must be strings")
        prompt, answer_a, answer_b = map(clean_text, (prompt, answer_a, answer_b))
        new_id = content_id("comparison", prompt, answer_a, answer_b)
        if new_id not in self._known_comparisons:
            self._known_comparisons.add(new_id)
            self._comparisons.append(
                {
                    "id": new_id,
                    "dataset": dataset,
                    "prompt": prompt,
                    "answer_a": answer_a,
                    "answer_b": answer_b,
                    "meta": meta or {},
                    "source": source,
                    "created_at": stored_time(created_at),
                }
            )
            self._maybe_flush()
        return new_id

    def record_preference(
        self,
        comparison: str,
        preference: str | None,
        *,
        strength: float | None = None,
        **event: Unpack[Provenance],
    ) -> str:
        """Add one preference event (see ``Store.record_preference``); returns its event id."""
        check_fields(event, Provenance, "record_preference")
        check_preference(preference, strength)
        event_id, *provenance = self._provenance(event)
        if comparison not in self._known_comparisons:
            found = self._connection.execute(
                sa.select(comparisons.c.id).where(comparisons.c.id == comparison)
            ).first()
            if found is None:
                raise LabelError(f"there is no comparison {comparison!r}")
            self._known_comparisons.add(comparison)
        self._preferences.append((event_id, comparison, preference, strength, *provenance))
        self._maybe_flush()
        return str(event_id)

    def _maybe_flush(self) -> None:
        pending = len(self._items) + len(self._steps) + len(self._events) + len(self._preferences)
        # A row of token scores is a whole output's worth of bytes: a few hundred are enough.
        if pending >= FLUSH_ROWS or len(self._token_scores) >= FLUSH_TOKEN_SCORES:
            self.flush()

    def flush(self) -> None:
        """Send what is buffered (still inside the transaction; nothing is committed yet)."""
        connection = self._connection
        if connection.dialect.name == "postgresql" and self._items:
            # Items go in with their steps through the one function annotators may use for it.
            _postgres.add_items(connection, self._items, self._steps)
            self._items.clear()
            self._steps.clear()
        for table, rows in (
            (items, self._items),
            (steps, self._steps),
            (comparisons, self._comparisons),
            (token_scores, self._token_scores),
        ):
            if not rows:
                continue
            if connection.dialect.name == "sqlite":
                _sqlite_insert(connection, table, tuple(rows[0]), [tuple(r.values()) for r in rows])
            else:
                connection.execute(_insert(table), rows)
        self.written += self._write_events(label_events, EVENT_COLUMNS, self._events)
        self.written += self._write_events(preference_events, PREFERENCE_COLUMNS, self._preferences)
        for buffer in (
            self._items,
            self._steps,
            self._comparisons,
            self._token_scores,
            self._events,
            self._preferences,
        ):
            buffer.clear()

    def _write_events(
        self, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> int:
        """Insert event rows, skipping event ids already stored; returns how many were new."""
        if not rows:
            return 0
        connection = self._connection
        if connection.dialect.name == "sqlite":
            if table is label_events and len(rows) >= _upkeep.BULK_ROWS:
                with _upkeep.sqlite_bulk(connection):
                    return _sqlite_insert(connection, table, columns, rows)
            return _sqlite_insert(connection, table, columns, rows)
        if len(rows) >= COPY_FROM_ROWS:
            meta_at = columns.index("meta") if "meta" in columns else None
            if meta_at is not None:
                rows = [
                    (*r[:meta_at], None if r[meta_at] is None else json.dumps(r[meta_at]))
                    for r in rows
                ]
            return _postgres.copy_insert(connection, table, columns, rows)
        inserted = connection.execute(
            _insert(table).returning(table.c.seq),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )
        return len(inserted.all())


def _insert(table: sa.Table) -> Any:
    """A PostgreSQL INSERT that skips rows whose key is already there (idempotent writes)."""
    return postgresql.insert(table).on_conflict_do_nothing()


def _sqlite_insert(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    """INSERT rows into a SQLite table, skipping keys already stored; returns how many were new.

    SQLAlchemy's per-row parameter handling costs more than SQLite's own insert, so the rows go
    to the driver as tuples, converted by the very functions SQLAlchemy would apply (datetimes
    and JSON become text): they read back exactly the same. A skipped duplicate adds 0 to the
    driver's rowcount.
    """
    dialect = connection.dialect
    names: list[str] = []
    values: list[Sequence[Any]] = []
    column: Sequence[Any]
    try:
        for name, column in zip(columns, zip(*rows, strict=True), strict=True):
            convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                null = convert(None)
                column = [null if v is None else convert(v) for v in column]
            # A column left out is NULL as well, and the driver binds each None slowly.
            if (
                column[0] is None
                and column.count(None) == len(column)
                and table.c[name].server_default is None
            ):
                continue
            names.append(name)
            values.append(column)
    except (TypeError, ValueError) as exc:
        # As SQLAlchemy reports a value its type cannot take.
        raise sa.exc.StatementError(
            f"({type(exc).__module__}.{type(exc).__name__}) {exc}", str(table.insert()), None, exc
        ) from exc
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
        f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT DO NOTHING"
    )
    return int(connection.exec_driver_sql(statement, list(zip(*values, strict=True))).rowcount)
