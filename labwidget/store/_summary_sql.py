"""The summary's queries: every figure is a GROUP BY the database runs, never a loop over events.

Each query can be limited to the events with ``lo < seq <= hi``, so a live dashboard adds only
what landed since its last look. Label events and pairwise preferences are counted alike: both
are a person's (or a machine's) labels and both carry time on task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labwidget.store.schema import (
    claims,
    comparisons,
    items,
    label_activity,
    label_current,
    label_events,
    preference_events,
)

# Label kinds the distribution counts; each is "current" per (item, step, alt, annotator, kind).
COUNTED_KINDS = ("rating", "flag", "finish")
# Event numbers per IN list: well under every backend's limit on bound parameters.
CHUNK = 5_000
# The idle cap the tallies of label events count time with (migration 0008).
TALLIED_CAP_MS = 600_000


@dataclass(frozen=True)
class Filters:
    """What the figures cover: a window of time (UTC, either end open) and one dataset or all."""

    since: datetime | None
    until: datetime | None
    dataset: str | None
    idle_cap_ms: int


@dataclass(frozen=True)
class EventTable:
    """A table of append-only events, the table of what they label, and what makes one current."""

    events: sa.Table
    target: sa.Table
    target_key: str
    current_key: tuple[str, ...]
    counted: tuple[str, ...]


LABELS = EventTable(
    label_events, items, "item_id", ("item_id", "step", "alt", "annotator", "kind"), COUNTED_KINDS
)
PREFERENCES = EventTable(
    preference_events, comparisons, "comparison_id", ("comparison_id", "annotator"), ()
)


def hour_of(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """The UTC hour an instant falls in.

    Text ``YYYY-MM-DD HH`` on SQLite, a timestamp on PostgreSQL; ``hour_key`` makes both text.
    """
    if dialect == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: the hour is the first 13 characters.
        return sa.func.substr(column, 1, 13)
    # date_trunc: half the time of to_char over a million events.
    return sa.func.date_trunc("hour", sa.func.timezone("UTC", column))


def hour_key(hour: str | datetime) -> str:
    """``hour_of``'s value as the text ``YYYY-MM-DD HH``.

    >>> hour_key(datetime(2026, 11, 2, 9)), hour_key("2026-11-02 09")
    ('2026-11-02 09', '2026-11-02 09')
    """
    return hour if isinstance(hour, str) else hour.strftime("%Y-%m-%d %H")


def capped_ms(table: sa.Table, cap_ms: int) -> sa.ColumnElement[int]:
    """A human event's time on task, at most ``cap_ms``; 0 for a machine's or a missing one."""
    duration = table.c.duration_ms
    return sa.case(
        (table.c.source != "human", 0),
        (duration.is_(None), 0),
        (duration > cap_ms, cap_ms),
        else_=duration,
    )


def _where(
    spec: EventTable, f: Filters, lo: int, hi: int | None, *, by: sa.FromClause | None = None
) -> list[sa.ColumnElement[bool]]:
    """Conditions on ``spec``'s events (or the alias ``by``): window, dataset, seq range."""
    table = spec.events if by is None else by
    conditions: list[sa.ColumnElement[bool]] = []
    if f.since is not None:
        conditions.append(table.c.created_at >= f.since)
    if f.until is not None:
        conditions.append(table.c.created_at < f.until)
    if lo:
        conditions.append(table.c.seq > lo)
    if hi is not None:
        conditions.append(table.c.seq <= hi)
    if f.dataset is not None:
        in_dataset = sa.select(spec.target.c.id).where(spec.target.c.dataset == f.dataset)
        conditions.append(table.c[spec.target_key].in_(in_dataset))
    return conditions


def activity(
    connection: sa.Connection, spec: EventTable, f: Filters, lo: int = 0, hi: int | None = None
) -> list[tuple[str, str, str, int, int]]:
    """(UTC hour, annotator, source, labels, capped human milliseconds) for each group."""
    table = spec.events
    hour = hour_of(table.c.created_at, connection.dialect.name).label("hour")
    query = (
        sa.select(
            hour,
            table.c.annotator,
            table.c.source,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(capped_ms(table, f.idle_cap_ms)), 0),
        )
        .where(*_where(spec, f, lo, hi))
        .group_by(hour, table.c.annotator, table.c.source)
    )
    return [(hour_key(h), a, s, int(n), int(ms)) for h, a, s, n, ms in connection.execute(query)]


def on_the_hour(at: datetime | None) -> bool:
    """Whether an instant (or an open end) falls on a whole UTC hour, as the tallies count."""
    return at is None or (at.minute, at.second, at.microsecond) == (0, 0, 0)


def tallied(f: Filters, *, window: bool) -> bool:
    """Whether the tallies answer for label events under ``f`` (``window``: per hour only)."""
    if f.idle_cap_ms != TALLIED_CAP_MS:
        return False
    if window:
        return on_the_hour(f.since) and on_the_hour(f.until)
    return f.since is None and f.until is None


def tallied_activity(connection: sa.Connection, f: Filters) -> list[tuple[str, str, str, int, int]]:
    """``activity`` of label events, read from ``label_activity`` (``tallied(f, window=True)``)."""
    t = label_activity.c
    query = sa.select(t.hour, t.annotator, t.source, sa.func.sum(t.labels), sa.func.sum(t.ms))
    if f.since is not None:
        query = query.where(t.hour >= hour_key(f.since))
    if f.until is not None:
        query = query.where(t.hour < hour_key(f.until))
    if f.dataset is not None:
        query = query.where(t.dataset == f.dataset)
    query = query.group_by(t.hour, t.annotator, t.source)
    return [(h, a, s, int(n), int(ms)) for h, a, s, n, ms in connection.execute(query) if n]


def tallied_distribution(
    connection: sa.Connection, f: Filters
) -> dict[tuple[str, str, str, str], int]:
    """``distribution`` of label events, read from ``label_current`` (no window)."""
    t = label_current.c
    query = sa.select(t.dataset, t.source, t.kind, t.value, t.labels).where(t.labels != 0)
    if f.dataset is not None:
        query = query.where(t.dataset == f.dataset)
    return {(d, s, k, v): int(n) for d, s, k, v, n in connection.execute(query)}


def tallied_hours(connection: sa.Connection, start: datetime, end: datetime) -> dict[str, int]:
    """``hours_between`` of label events at the tallies' cap, for a week on whole hours."""
    t = label_activity.c
    query = (
        sa.select(t.annotator, sa.func.sum(t.ms))
        .where(t.source == "human", t.hour >= hour_key(start), t.hour < hour_key(end))
        .group_by(t.annotator)
    )
    return {name: int(ms or 0) for name, ms in connection.execute(query)}


def hours_between(
    connection: sa.Connection,
    spec: EventTable,
    start: datetime,
    end: datetime,
    cap_ms: int,
    *,
    annotator: str | None = None,
    lo: int = 0,
    hi: int | None = None,
) -> dict[str, int]:
    """Each annotator's capped human milliseconds in ``[start, end)``, whatever the dataset."""
    table = spec.events
    query = (
        sa.select(table.c.annotator, sa.func.sum(capped_ms(table, cap_ms)))
        .where(table.c.source == "human", table.c.created_at >= start, table.c.created_at < end)
        .group_by(table.c.annotator)
    )
    if annotator is not None:
        query = query.where(table.c.annotator == annotator)
    if lo:
        query = query.where(table.c.seq > lo)
    if hi is not None:
        query = query.where(table.c.seq <= hi)
    return {name: int(ms or 0) for name, ms in connection.execute(query)}


def _same_key(spec: EventTable, a: Any, b: Any) -> list[sa.ColumnElement[bool]]:
    # step is NULL for a finish, and NULL = NULL is not true: step compares NULL-safely. Only
    # step: PostgreSQL can use no index for IS NOT DISTINCT FROM, and with item_id compared so
    # too it scanned every newer event for every event.
    return [
        a.c[k].is_not_distinct_from(b.c[k]) if k == "step" else a.c[k] == b.c[k]
        for k in spec.current_key
    ]


def _value_columns(spec: EventTable, table: Any) -> list[sa.ColumnElement[Any]]:
    if spec is PREFERENCES:
        return [table.c.source, sa.literal("preference"), table.c.preference]
    reason = sa.case(
        (table.c.kind == "finish", table.c.text), else_=sa.cast(table.c.value, sa.Text)
    )
    return [table.c.source, table.c.kind, reason]


def _counted(spec: EventTable, table: Any) -> list[sa.ColumnElement[bool]]:
    """Only labels that say something: a cleared rating, flag or preference is not one."""
    if spec is PREFERENCES:
        return [table.c.preference.is_not(None)]
    return [
        table.c.kind.in_(spec.counted),
        sa.or_(table.c.kind != "rating", table.c.value.is_not(None)),
        sa.or_(table.c.kind != "flag", table.c.value == 1),
    ]


def distribution(
    connection: sa.Connection, spec: EventTable, f: Filters, lo: int = 0, hi: int | None = None
) -> dict[tuple[str, str, str, str], int]:
    """Current labels per (dataset, source, kind, value), or their change over ``(lo, hi]``.

    A label is current when no newer event of the same key (item, step, alternative, annotator
    and kind; or comparison and annotator) exists up to ``hi``. Over ``(lo, hi]`` the counts are
    signed: each event there that is current at ``hi`` adds one, and the label each replaced
    (the one current at ``lo`` for its key) takes one away.
    """
    e, newer = spec.events.alias("e"), spec.events.alias("newer")
    target = spec.target
    superseded = sa.exists().where(*_same_key(spec, newer, e), newer.c.seq > e.c.seq)
    if hi is not None:
        superseded = superseded.where(newer.c.seq <= hi)
    columns = [target.c.dataset, *_value_columns(spec, e)]
    added = (
        sa.select(*columns, sa.func.count())
        .join_from(e, target, target.c.id == e.c[spec.target_key])
        .where(~superseded, *_counted(spec, e), *_where(spec, f, lo, hi, by=e))
        .group_by(*columns)
    )
    counts: dict[tuple[str, str, str, str], int] = {}
    for row in connection.execute(added):
        key = (row[0], row[1], row[2], row[3])
        counts[key] = counts.get(key, 0) + int(row[4])
    if lo:
        for key, n in _replaced(connection, spec, f, lo, hi).items():
            counts[key] = counts.get(key, 0) - n
    return {key: n for key, n in counts.items() if n}


def _replaced(
    connection: sa.Connection, spec: EventTable, f: Filters, lo: int, hi: int | None
) -> dict[tuple[str, str, str, str], int]:
    """The labels current at ``lo`` whose key got a newer event in ``(lo, hi]``, counted."""
    table = spec.events
    seq_range = [table.c.seq > lo] + ([] if hi is None else [table.c.seq <= hi])
    touched = (
        sa.select(*(table.c[k] for k in spec.current_key)).where(*seq_range).distinct().subquery()
    )
    before = spec.events.alias("before")
    previous = (
        sa.select(sa.func.max(before.c.seq))
        .where(*_same_key(spec, before, touched), before.c.seq <= lo)
        .scalar_subquery()
    )
    # Their event numbers first, then the events by primary key: asked in one statement,
    # PostgreSQL without fresh statistics (after a bulk import) hashed every event instead.
    found = connection.execute(sa.select(previous).select_from(touched)).scalars()
    seqs = [seq for seq in found if seq is not None]
    p, target = spec.events.alias("p"), spec.target
    columns = [target.c.dataset, *_value_columns(spec, p)]
    query = (
        sa.select(*columns, sa.func.count())
        .join_from(p, target, target.c.id == p.c[spec.target_key])
        .where(p.c.seq.in_(sa.bindparam("seqs", expanding=True)))
        .where(*_counted(spec, p), *_where(spec, f, 0, None, by=p))
        .group_by(*columns)
    )
    counts: dict[tuple[str, str, str, str], int] = {}
    for start in range(0, len(seqs), CHUNK):
        for row in connection.execute(query, {"seqs": seqs[start : start + CHUNK]}):
            key = (row[0], row[1], row[2], row[3])
            counts[key] = counts.get(key, 0) + int(row[4])
    return counts


def _finished(item_id: Any) -> sa.Exists:
    # A literal, not a bound parameter: only then may SQLite use the partial index of finishes.
    return sa.exists().where(label_events.c.item_id == item_id, sa.text("kind = 'finish'"))


def queue(
    connection: sa.Connection,
    dataset: str | None,
    now: datetime,
    lo: int = 0,
    hi: int | None = None,
) -> dict[str, int]:
    """Items (in ``dataset``), done and claimed; the caller works out which are open.

    Done: someone finished it. Claimed: an unexpired claim, and not done. With ``lo``, ``done``
    counts only the items first finished in ``(lo, hi]``.
    """
    in_dataset = [] if dataset is None else [items.c.dataset == dataset]
    total = connection.execute(
        sa.select(sa.func.count()).select_from(items).where(*in_dataset)
    ).scalar_one()
    finish = label_events.alias("finish")
    done_query = sa.select(sa.func.count(sa.distinct(finish.c.item_id))).where(
        sa.text("finish.kind = 'finish'")
    )
    if dataset is not None:
        done_query = done_query.where(
            finish.c.item_id.in_(sa.select(items.c.id).where(*in_dataset))
        )
    if lo:
        earlier = label_events.alias("earlier")
        done_query = done_query.where(
            finish.c.seq > lo,
            ~sa.exists().where(
                earlier.c.item_id == finish.c.item_id,
                sa.text("earlier.kind = 'finish'"),
                earlier.c.seq <= lo,
            ),
        )
    if hi is not None:
        done_query = done_query.where(finish.c.seq <= hi)
    held = sa.select(sa.func.count(sa.distinct(claims.c.item_id))).where(
        claims.c.expires_at > now, ~_finished(claims.c.item_id)
    )
    if dataset is not None:
        held = held.where(claims.c.item_id.in_(sa.select(items.c.id).where(*in_dataset)))
    return {
        "items": int(total),
        "done": int(connection.execute(done_query).scalar_one()),
        "claimed": int(connection.execute(held).scalar_one()),
    }


def last_seqs(connection: sa.Connection) -> dict[str, int]:
    """The newest label and preference event numbers: where a later update starts."""
    labels = connection.execute(sa.select(sa.func.max(label_events.c.seq))).scalar_one()
    prefs = connection.execute(sa.select(sa.func.max(preference_events.c.seq))).scalar_one()
    return {"labels": int(labels or 0), "preferences": int(prefs or 0)}
