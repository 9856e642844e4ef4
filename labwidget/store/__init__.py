"""The label store: one API over an embedded SQLite file or a shared PostgreSQL database.

Plain dicts go in and come out. Labels are append-only events; the current label of a step is
the newest event for it, so history is never lost and undo is just another event.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from labwidget.store import (
    _claims,
    _migrate,
    _postgres,
    _queries,
    _queue,
    _settings,
    _summary,
    _token_scores,
)
from labwidget.store._batch import Batch
from labwidget.store._engine import (
    READ_ONLY,
    check_sqlite_file,
    enable_wal,
    make_engine,
    resolve_url,
)
from labwidget.store._errors import LabelError, StoreError
from labwidget.store._events import (
    MAX_DURATION_MS,
    StepSpec,
    clean_text,
    content_id,
    iso,
)
from labwidget.store.schema import (
    comparisons,
    items,
    label_events,
    steps,
)

__all__ = [
    "MAX_DURATION_MS",
    "Batch",
    "LabelError",
    "StepSpec",
    "Store",
    "StoreError",
    "clean_text",
    "content_id",
    "init_database",
]

PAYLOAD = ("value", "text", "score")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Store:
    """A label store at a file path (SQLite, created on first open) or a database URL.

    Args:
        target: a file path such as ``"labels.db"``, or a URL such as
            ``"postgresql+psycopg://alice@db.lab/labels"``.
        annotator: whose labels these are. Defaults to the login name on SQLite and to the
            database role on PostgreSQL, where row-level security holds each role to its own.
    """

    def __init__(self, target: str | os.PathLike[str], *, annotator: str | None = None) -> None:
        self.url = resolve_url(target)
        if self.url.get_backend_name() == "sqlite":
            assert self.url.database is not None
            check_sqlite_file(Path(self.url.database))
        self._engine = make_engine(self.url)
        try:
            self._open_schema()
            self.annotator = annotator or self._default_annotator()
        except Exception:
            self._engine.dispose()
            raise

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return str(self._engine.dialect.name)

    def _where(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _default_annotator(self) -> str:
        if self.backend != "postgresql":
            return _login_name()
        with self._read() as connection:
            return str(connection.exec_driver_sql("SELECT current_user").scalar_one())

    def _open_schema(self) -> None:
        # Only an embedded file upgrades itself; a shared database waits for its admin.
        _migrate.prepare(self._engine, self._where(), may_upgrade=self.backend == "sqlite")
        if self.backend == "sqlite":
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
        return f"Store({self._where()!r})"

    def _read(self) -> sa.Connection:
        return self._engine.connect().execution_options(**READ_ONLY)

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that skips rows whose key is already there (idempotent writes)."""
        dialect = postgresql if self.backend == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """One write transaction; database refusals come out as LabelError or StoreError."""
        try:
            with self._engine.begin() as connection:
                yield connection
        except sa.exc.IntegrityError as exc:
            raise LabelError(f"nothing was written: {exc.orig}") from exc
        except sa.exc.DBAPIError as exc:
            if "row-level security" in str(exc.orig):
                raise LabelError(
                    f"nothing was written: as {self.annotator!r} you can write only your own "
                    "labels and claims on this shared store"
                ) from exc
            raise StoreError(f"nothing was written: {exc.orig}") from exc

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Write many items and labels in one transaction: all of them, or none on an error.

        Inside ``with store.batch() as batch:``, ``batch.add_item``, ``batch.record``,
        ``batch.add_comparison`` and ``batch.record_preference`` take the same arguments as the
        store's own methods; rows go out in chunks, and the commit comes at the end of the block.
        """
        with self._transaction() as connection:
            batch = Batch(self, connection)
            yield batch
            batch.flush()

    def _write_one(self, write: str, *args: Any, **kwargs: Any) -> Any:
        """Run one Batch method in its own transaction; True-ish results say it was new."""
        with self.batch() as batch:
            result = getattr(batch, write)(*args, **kwargs)
            before = batch.written
            batch.flush()
            new_rows = batch.written - before
        return result, new_rows

    # Items and comparisons ----------------------------------------------------------------

    def add_item(
        self,
        prompt: str,
        steps: Sequence[StepSpec],
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> str:
        """Store an item (a prompt and its steps) and return its content-hash id.

        A step is a string, or a list of alternative completions at that position (PRM800K);
        alternative 0 is the one on the item's own path. Adding the same item again is a no-op.
        """
        item_id: str = self._write_one(
            "add_item", prompt, steps, dataset=dataset, meta=meta, source=source
        )[0]
        return item_id

    def add_comparison(
        self,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> str:
        """Store two answers to one prompt for a pairwise preference; returns its content id."""
        comparison_id: str = self._write_one(
            "add_comparison", prompt, answer_a, answer_b, dataset=dataset, meta=meta, source=source
        )[0]
        return comparison_id

    def add_alternatives(self, item: str, step: int, texts: Sequence[str]) -> list[int]:
        """Add candidate completions at ``step`` of ``item``; returns their alternative indexes.

        The item keeps its id (its labels stay attached); a text already there is not added
        twice and its existing index comes back.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise LabelError("alternatives must be a list of non-empty strings")
        with self._transaction() as connection:
            if self.backend == "postgresql":
                # Through the function that is the only way annotators may add steps.
                return _postgres.add_alternatives(
                    connection, item, step, list(map(clean_text, texts))
                )
            rows = connection.execute(
                sa.select(steps.c.alt, steps.c.text).where(
                    steps.c.item_id == item, steps.c.position == step
                )
            ).all()
            if not rows:
                raise LabelError(f"item {item!r} has no step {step}")
            known = {row.text: row.alt for row in rows}
            indexes: list[int] = []
            for text in map(clean_text, texts):
                if text not in known:
                    known[text] = max(known.values()) + 1
                    connection.execute(
                        sa.insert(steps).values(
                            item_id=item, position=step, alt=known[text], text=text, chosen=False
                        )
                    )
                indexes.append(known[text])
        return indexes

    def _item_shape(self, connection: sa.Connection, item: str) -> list[int]:
        """The number of alternatives at each step of ``item``."""
        return _queries.step_counts(connection.execute(_queries.ITEM_SHAPE, {"item": item}))

    def _comparison_exists(self, connection: sa.Connection, comparison: str) -> bool:
        found = connection.execute(
            sa.select(comparisons.c.id).where(comparisons.c.id == comparison)
        ).first()
        return found is not None

    def items(self, *, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every item as a dict (id, dataset, prompt, steps, alternatives, meta, source, …).

        ``steps`` is the item's own path (alternative 0 at each position); ``alternatives``
        lists every candidate at each position.
        """
        with self._read() as connection:
            where = None if dataset is None else items.c.dataset == dataset
            return _queries.item_dicts(connection, where)

    def item(self, item_id: str) -> dict[str, Any]:
        """One item as ``items()`` gives it; KeyError when there is none."""
        with self._read() as connection:
            found = _queries.item_dicts(connection, items.c.id == item_id)
        if not found:
            raise KeyError(item_id)
        return found[0]

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
        """Keep an item's per-token scores (its heatmap), as compact float32 and UTF-8 binary.

        ``tokens`` run step after step (``step_token_counts`` per step), one finite ``score``
        each; ``kind`` is ``logprob``, ``entropy`` or ``score``, and ``meta`` says more about
        them (e.g. the distribution). An item keeps the first scores stored; later ones are a
        no-op, as re-adding the item is.
        """
        self._write_one(
            "add_token_scores", item, tokens, scores, step_token_counts, kind=kind, meta=meta
        )

    def token_scores(self, item: str) -> dict[str, Any] | None:
        """The per-token scores kept with ``item`` (see ``add_token_scores``), or None.

        A dict: ``item``, ``kind``, ``tokens``, ``scores`` (the stored float32 values),
        ``step_token_counts``, ``meta``, ``created_at``.
        """
        with self._read() as connection:
            return _token_scores.read(connection, item)

    def comparisons(self, *, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every comparison as a dict (id, dataset, prompt, answer_a, answer_b, meta, …)."""
        query = sa.select(comparisons).order_by(comparisons.c.created_at, comparisons.c.id)
        if dataset is not None:
            query = query.where(comparisons.c.dataset == dataset)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [{**row, "created_at": iso(row["created_at"])} for row in rows]

    # Labels ----------------------------------------------------------------------------------

    def record(
        self,
        kind: str,
        *,
        item: str,
        step: int | None = None,
        alt: int = 0,
        value: int | None = None,
        text: str | None = None,
        score: float | None = None,
        event_id: str | None = None,
        annotator: str | None = None,
        source: str = "human",
        confidence: float | None = None,
        duration_ms: int | None = None,
        client_time: float | None = None,
        created_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> bool:
        """Commit one label event of any kind; True if it was new, False for a repeated id.

        Kinds: ``rating`` (value -1/0/+1), ``flag`` (value 1/0), ``choice`` (value = the chosen
        alternative), ``replacement`` and ``note`` (text), ``finish`` (text = the reason,
        duration_ms = the time spent), ``score`` (a number for the whole item), ``prediction``
        (score = a model's probability that the step is correct, value +1/-1: a suggestion,
        see ``labwidget.suggest``) and ``adjudication`` (value -1/0/+1 settling a disagreement).
        ``source`` is ``human``, ``model:<name>`` or ``auto:<method>``.

        Raises:
            LabelError: the event does not fit its kind, or the item or step does not exist.
        """
        return bool(
            self._write_one(
                "record",
                kind,
                item=item,
                step=step,
                alt=alt,
                value=value,
                text=text,
                score=score,
                event_id=event_id,
                annotator=annotator,
                source=source,
                confidence=confidence,
                duration_ms=duration_ms,
                client_time=client_time,
                created_at=created_at,
                meta=meta,
            )[1]
        )

    def record_label(self, *, item: str, step: int, value: int | None, **event: Any) -> bool:
        """Commit a step rating (-1, 0 or +1) at ``alt`` (default 0); see ``record``."""
        return self.record("rating", item=item, step=step, value=value, **event)

    def flag_step(self, *, item: str, step: int, flagged: bool = True, **event: Any) -> bool:
        """Flag a step as "can't tell" (or clear the flag); see ``record``."""
        return self.record("flag", item=item, step=step, value=int(flagged), **event)

    def choose(self, *, item: str, step: int, alt: int, **event: Any) -> bool:
        """Record which alternative at ``step`` continues the solution; see ``record``."""
        return self.record("choice", item=item, step=step, value=alt, **event)

    def replace_step(self, *, item: str, step: int, text: str, **event: Any) -> bool:
        """Record a step written by the annotator in place of the model's; see ``record``."""
        return self.record("replacement", item=item, step=step, text=text, **event)

    def finish(self, *, item: str, reason: str, **event: Any) -> bool:
        """Record why labeling of an item ended and (``duration_ms``) how long it took."""
        return self.record("finish", item=item, text=reason, **event)

    def rate_item(self, *, item: str, score: float, **event: Any) -> bool:
        """Record a scalar rating of a whole item; see ``record``."""
        return self.record("score", item=item, score=score, **event)

    def adjudicate(self, *, item: str, step: int, value: int, **event: Any) -> bool:
        """Record the label (-1, 0, +1) a person settles a disagreement at a step with.

        Datasets and exports take it in place of every annotator's rating of that step (see
        ``labwidget.disagreements``); the adjudicator is the event's annotator.
        """
        return self.record("adjudication", item=item, step=step, value=value, **event)

    def record_preference(
        self,
        comparison: str,
        preference: str | None,
        *,
        strength: float | None = None,
        **event: Any,
    ) -> bool:
        """Commit a preference ("a", "b" or "tie", None to clear) between a comparison's answers."""
        return bool(
            self._write_one(
                "record_preference", comparison, preference, strength=strength, **event
            )[1]
        )

    def undo(
        self,
        *,
        item: str,
        step: int,
        alt: int = 0,
        kind: str = "rating",
        annotator: str | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Undo the newest rating (or flag) of a step, as a new event restoring the one before.

        Returns the label now current, or None when none is left. Repeated undos walk back
        through the history; the undone events stay in the store.
        """
        if kind not in _queries.CLEARED:
            raise LabelError(f"only {' and '.join(_queries.CLEARED)} labels can be undone")
        who = annotator or self.annotator
        history = [
            e
            for e in self.events(item=item, annotator=who, kind=kind)
            if e["step"] == step and e["alt"] == alt
        ]
        stack: list[dict[str, Any]] = []
        for event in history:
            undone = (event["meta"] or {}).get("undoes")
            if undone is not None and stack and stack[-1]["event_id"] == undone:
                stack.pop()
            else:
                stack.append(event)
        if not stack:
            raise LabelError(f"nothing to undo at step {step} of item {item!r}")
        restored = stack[-2] if len(stack) > 1 else None
        payload = {k: restored[k] for k in PAYLOAD} if restored else _queries.CLEARED[kind]
        self.record(
            kind,
            item=item,
            step=step,
            alt=alt,
            annotator=who,
            event_id=event_id,
            meta={"undoes": stack[-1]["event_id"]},
            **payload,
        )
        return restored

    def labels(
        self,
        *,
        item: str | None = None,
        annotator: str | None = None,
        kind: str | None = "rating",
    ) -> list[dict[str, Any]]:
        """The current labels, one dict per (item, step, alternative, annotator, kind).

        The newest event wins; cleared ratings and flags are left out. Older events stay in
        the store as history (see ``events``).
        """
        with self._read() as connection:
            rows = connection.execute(_queries.current_labels(item, annotator, kind)).all()
        return [e for e in map(_queries.event_dict, rows) if not _queries.is_cleared(e)]

    def events(
        self,
        *,
        item: str | None = None,
        annotator: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every label event ever committed, oldest first: the full history."""
        with self._read() as connection:
            rows = connection.execute(_queries.events(item, annotator, kind)).all()
        return [_queries.event_dict(row) for row in rows]

    def iter_events(
        self, *, kind: str | None = None, chunk: int = 5_000
    ) -> Iterator[dict[str, Any]]:
        """Stream every label event, oldest first, holding ``chunk`` rows in memory at a time."""
        last = 0
        while True:
            query = _queries.events(None, None, kind).where(label_events.c.seq > last)
            with self._read() as connection:
                rows = connection.execute(query.limit(chunk)).all()
            if not rows:
                return
            last = rows[-1].seq
            yield from map(_queries.event_dict, rows)

    def step_ratings(self, item: str, *, annotator: str | None = None) -> list[int | None]:
        """The current rating of each step of ``item`` (alternative 0) by one annotator."""
        with self._read() as connection:
            count = len(self._item_shape(connection, item))
        ratings: list[int | None] = [None] * count
        for row in self.labels(item=item, annotator=annotator or self.annotator):
            if row["alt"] == 0 and 0 <= row["step"] < count:
                ratings[row["step"]] = row["value"]
        return ratings

    def current_steps(
        self,
        kind: str = "rating",
        *,
        items: Sequence[str] | None = None,
        dataset: str | None = None,
        source: str | None = None,
        blind: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The newest ``kind`` event per (item, step, alt, annotator), in one pass, as tuples.

        Each is ``(item, step, alt, annotator, source, value, score, confidence)``, the
        ``blind`` mark of its meta when asked, and last the event's ``seq`` (larger: newer);
        cleared ratings are left out: what agreement
        reads over a whole store, so no dict per row. ``source`` is exact (``"human"``) or a
        prefix ending in a colon (``"auto:"``).
        """
        with self._read() as connection:
            if items is None:
                return _queue.current(connection, kind, dataset=dataset, source=source, blind=blind)
            return _queue.current_in_chunks(
                connection, kind, list(items), dataset=dataset, source=source, blind=blind
            )

    def item_shapes(self, *, dataset: str | None = None) -> list[tuple[str, str, int]]:
        """``(item, dataset, number of steps)`` of every item: light enough for 100k items."""
        with self._read() as connection:
            return _queue.item_shapes(connection, dataset)

    def step_history(self, kind: str = "rating", *, dataset: str | None = None) -> list[Any]:
        """Every ``kind`` event as ``(item, step, alt, annotator, source, value, seq)``.

        In no order, from one sequential pass: for readers of a whole store that take the
        newest per key by ``seq`` themselves (``labwidget.agreement``); ``current_steps``
        gives the newest directly.
        """
        with self._read() as connection:
            return _queue.history(connection, kind, dataset=dataset)

    def known_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` are stored already: what a resumed run skips."""
        with self._read() as connection:
            return _queue.known_event_ids(connection, list(event_ids))

    def set_priorities(self, rows: Sequence[dict[str, Any]]) -> int:
        """Write the work queue's priorities of items (see ``claim``'s orders); lower first.

        Each row: ``item``, ``uncertainty``, ``convincing_wrong``, ``disagreement`` (None:
        not in that order) and ``scored_by``. Returns how many items were updated.
        """
        with self._transaction() as connection:
            return _queue.set_priorities(connection, rows)

    def queue(self, items: Sequence[str]) -> list[dict[str, Any]]:
        """The work queue's rows of ``items``: ``people`` who labeled each, its priorities."""
        with self._read() as connection:
            return _queue.queue_rows(connection, list(items))

    def preferences(
        self, *, annotator: str | None = None, dataset: str | None = None
    ) -> list[dict[str, Any]]:
        """The current preference per (comparison, annotator), with the prompt and answers."""
        with self._read() as connection:
            query = _queries.current_preferences(annotator, dataset)
            rows = connection.execute(query).mappings().all()
        return [_queries.preference_dict(row) for row in rows]

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds: items, steps, events, comparisons, annotators."""
        with self._read() as connection:
            return _queries.counts(connection)

    # Work assignment -------------------------------------------------------------------------

    def claim(
        self,
        n: int,
        *,
        annotator: str | None = None,
        overlap: int = 1,
        ttl_s: float = 3600.0,
        dataset: str | None = None,
        order: str = "oldest",
        seed: int = 0,
    ) -> list[str]:
        """Hand out up to ``n`` items to label, in ``order``, and return their ids.

        Each item goes to at most ``overlap`` distinct people (counting unexpired claims and
        anyone who labeled it; machines, ``auto:…`` and ``model:…``, do not count) and never
        twice to the same annotator. A claim lapses after ``ttl_s`` seconds, so a closed laptop
        does not hold work forever. Concurrent claimers never over-assign: PostgreSQL locks
        candidates with FOR UPDATE SKIP LOCKED, SQLite serializes claimers with an immediate
        write transaction.

        ``order``: ``"oldest"`` first; ``"random"`` (a shuffle the ``seed`` picks the start
        of); or by your PRM's scores (``labwidget.suggest`` writes them): ``"uncertainty"``
        (a step probability nearest 0.5 first), ``"convincing_wrong"`` (a wrong final answer
        the PRM rates high), ``"disagreement"`` (the PRM against the ``auto:`` labels). Items
        the PRM has not scored come after the scored ones, oldest first.
        """
        if n < 0 or overlap < 1 or ttl_s <= 0:
            raise ValueError("claim needs n >= 0, overlap >= 1 and ttl_s > 0")
        _claims.segments(order, seed)  # an unknown order is refused before any write
        who = annotator or self.annotator
        with self._transaction() as connection:
            return _claims.claim(
                connection,
                n,
                annotator=who,
                overlap=overlap,
                ttl_s=ttl_s,
                dataset=dataset,
                order=order,
                seed=seed,
            )

    def release(self, item: str, *, annotator: str | None = None) -> None:
        """Give a claimed item back before its claim lapses."""
        with self._transaction() as connection:
            _claims.release(connection, item, annotator or self.annotator)

    # Summary and settings --------------------------------------------------------------------

    def summary(
        self,
        *,
        since: Any = None,
        until: Any = None,
        dataset: str | None = None,
        timezone: str | None = None,
        week_start: str | None = None,
        weekly_cap_h: float | None = None,
        idle_cap_s: float = _summary.IDLE_CAP_S,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Every figure of the dashboard and the report, as plain dicts and lists.

        Labels per annotator and source (``human``, ``model:…``, ``auto:…``) over time, the
        current labels per dataset (ratings, flags, finish reasons, preferences), each person's
        hours this week against the weekly cap, and the queue (items done, claimed, open). The
        database does the counting. See ``labwidget.store._summary`` for how time is counted.

        Args:
            since: count labels from this instant on: a date (midnight in ``timezone``), a
                datetime (naive: wall time in ``timezone``) or an ISO 8601 string.
            until: count labels before this instant (same forms as ``since``).
            dataset: only this dataset's items and comparisons.
            timezone: an IANA zone for days and weeks; default the store's ``timezone``
                setting, else UTC (the same figures for everyone who opens a shared store).
            week_start: the day weeks start on; default the store's setting, else Monday.
            weekly_cap_h: the cap on each person's weekly hours; default the store's
                ``weekly_cap_h`` setting, else no cap.
            idle_cap_s: the most one event's ``duration_ms`` counts (a break before an action
                would otherwise count as labeling).
            now: the instant whose week is "this week" (default: now).

        Raises:
            ValueError: a bad date, time zone, day, cap or idle cap, or ``since`` >= ``until``.
        """
        with self._read() as connection:
            opts = _summary.options(
                _settings.read(connection),
                since=since,
                until=until,
                dataset=dataset,
                timezone_name=timezone,
                week_start=week_start,
                weekly_cap_h=weekly_cap_h,
                idle_cap_s=idle_cap_s,
            )
            return _summary.summarize(connection, opts, _summary.utc(now))

    def update_summary(
        self, previous: dict[str, Any], *, upto_seq: int | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        """``previous`` (from ``summary``) with the labels committed since added in.

        Only the new events are counted, so this costs milliseconds on any store; with nothing
        new, ``previous`` itself comes back. A new week means a full recount.

        On PostgreSQL, events commit out of ``seq`` order: pass ``upto_seq``, the ``seq`` of the
        last event ``follow`` yielded, so that an event still being committed below the newest
        is counted next time rather than skipped (``Dashboard`` does). Pairwise preferences are
        read up to the newest; one committed late is counted by the next full ``summary``.
        """
        with self._read() as connection:
            return _summary.update(connection, previous, _summary.utc(now), upto_seq)

    def cap_status(
        self,
        annotator: str | None = None,
        *,
        timezone: str | None = None,
        week_start: str | None = None,
        weekly_cap_h: float | None = None,
        idle_cap_s: float = _summary.IDLE_CAP_S,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """One person's hours this week against the weekly cap (default: this store's annotator).

        Returns ``{annotator, hours_this_week, cap_h, crossed, week_start, week_end, timezone}``;
        ``crossed`` is True once the hours exceed the cap (never without a cap).

        Raises:
            ValueError: ``annotator`` names no one who has labeled in this store, or a setting
                is bad (as for ``summary``).
        """
        with self._read() as connection:
            opts = _summary.options(
                _settings.read(connection),
                since=None,
                until=None,
                dataset=None,
                timezone_name=timezone,
                week_start=week_start,
                weekly_cap_h=weekly_cap_h,
                idle_cap_s=idle_cap_s,
            )
            if annotator is not None and annotator != self.annotator:
                _summary.check_annotator(connection, annotator)
            who = annotator or self.annotator
            return _summary.cap_status(connection, opts, who, _summary.utc(now))

    def settings(self) -> dict[str, Any]:
        """The store's settings (``weekly_cap_h``, ``timezone``, ``week_start``) that are set."""
        with self._read() as connection:
            return _settings.read(connection)

    def set_setting(self, name: str, value: Any) -> Any:
        """Set a store setting for everyone who opens the store (None unsets it); returns it.

        ``weekly_cap_h``: hours above 0; ``timezone``: an IANA zone such as ``Europe/Berlin``;
        ``week_start``: ``monday`` … ``sunday``. On a shared PostgreSQL store only the
        store's owner may change them.

        Raises:
            ValueError: an unknown setting or a bad value, with what it must be.
        """
        _settings.check(name, value)
        with self._transaction() as connection:
            return _settings.write(connection, name, value, by=self.annotator)


def init_database(target: str | os.PathLike[str], *, secure: bool = True) -> str:
    """Create or upgrade a store's schema; on PostgreSQL also set up what annotators may do.

    After this, members of the ``labwidget_annotator`` role can read everything but write
    labels and claims only under their own role name, and add items, steps and alternatives
    only through the store's functions. ``secure=False`` sets up no rules where there are none,
    but brings rules an earlier ``init_database`` set up to the current ones. Returns the
    schema revision.
    """
    url = resolve_url(target)
    if url.get_backend_name() == "sqlite":
        Store(target).close()
        return _migrate.head_revision()
    where = url.render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        _migrate.prepare(engine, where, may_upgrade=True)
        with engine.begin() as connection:
            if secure or _postgres.is_secured(connection):
                _postgres.secure(connection)
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"cannot set up {where}: {exc.orig}") from exc
    finally:
        engine.dispose()
    return _migrate.head_revision()
