"""Handing out items to annotators so that each gets up to k distinct ones, safely at once.

Claims read the work queue (``item_queue``: one row per item with the number of people who
labeled it and its priorities), through indexes on (people, priority): a claim reads the first
open items of its order for each count of people below the overlap, instead of scanning every
item and its labels. Only people count towards the overlap: machines (annotators named
``auto:…`` or ``model:…``, as autolabel and suggest write and claim) label every item anyway.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from labwidget.store._events import content_id, utcnow
from labwidget.store.schema import claims, item_people, item_queue, items, label_events

LOCK_WAIT_S = 0.01
LOCK_PATIENCE_S = 5.0
#: What ``Store.claim`` can order the open items by.
ORDERS = ("oldest", "random", "uncertainty", "convincing_wrong", "disagreement")
MACHINES = ("auto:", "model:")


@dataclass(frozen=True)
class Segment:
    """A run of the queue read in one index order: items matching ``where``, sorted by ``by``."""

    where: sa.ColumnElement[bool]
    by: tuple[sa.ColumnElement[Any], ...]


def segments(order: str, seed: int) -> list[Segment]:
    """The runs an order reads one after another.

    ``random`` walks the items by id (a content hash, so in no meaningful order) from a point
    the seed picks, around to it again. A model's order comes first for the items it scored,
    then the unscored items oldest first.
    """
    oldest = (item_queue.c.created_at, item_queue.c.item_id)
    if order == "oldest":
        return [Segment(sa.true(), oldest)]
    if order == "random":
        start = content_id("claim order", seed)
        by = (item_queue.c.item_id,)
        after, before = item_queue.c.item_id >= start, item_queue.c.item_id < start
        return [Segment(after, by), Segment(before, by)]
    if order not in ORDERS:
        raise ValueError(f"order is one of {', '.join(ORDERS)}, not {order!r}")
    key = item_queue.c[order]
    return [Segment(key.is_not(None), (key, item_queue.c.item_id)), Segment(key.is_(None), oldest)]


def is_machine(annotator: str) -> bool:
    """Whether an annotator name is a machine's (``auto:…``, ``model:…``).

    >>> is_machine("auto:mc"), is_machine("alice")
    (True, False)
    """
    return annotator.startswith(MACHINES)


def _open_to(annotator: str, overlap: int, now: sa.ColumnElement[datetime]) -> list[Any]:
    """Conditions for a queue row that ``annotator`` may claim."""
    had_it = sa.exists().where(
        claims.c.item_id == item_queue.c.item_id, claims.c.annotator == annotator
    )
    labeled_it = sa.exists().where(
        label_events.c.item_id == item_queue.c.item_id, label_events.c.annotator == annotator
    )
    # People holding a live claim who have not labeled the item yet (those are in ``people``).
    holding = (
        sa.select(sa.func.count())
        .select_from(claims)
        .where(
            claims.c.item_id == item_queue.c.item_id,
            claims.c.expires_at > now,
            *(~claims.c.annotator.startswith(prefix) for prefix in MACHINES),
            ~sa.exists().where(
                item_people.c.item_id == claims.c.item_id,
                item_people.c.annotator == claims.c.annotator,
            ),
        )
        .correlate(item_queue)
        .scalar_subquery()
    )
    return [~had_it, ~labeled_it, item_queue.c.people + holding < overlap]


def _candidates(
    connection: sa.Connection,
    segment: Segment,
    people: int,
    where: Sequence[Any],
    limit: int,
    *,
    lock: bool,
) -> list[tuple[Any, ...]]:
    """The first open rows of one segment among items ``people`` people labeled: (id, *key)."""
    query = (
        sa.select(item_queue.c.item_id, *segment.by)
        .where(item_queue.c.people == people, segment.where, *where)
        .order_by(*segment.by)
        .limit(limit)
    )
    if lock:
        # Lock the item rows (annotators may lock those, as before the queue existed).
        query = query.join(items, items.c.id == item_queue.c.item_id).with_for_update(
            skip_locked=True, of=items
        )
    return [tuple(row) for row in connection.execute(query)]


def claim(
    connection: sa.Connection,
    n: int,
    *,
    annotator: str,
    overlap: int,
    ttl_s: float,
    dataset: str | None,
    order: str = "oldest",
    seed: int = 0,
) -> list[str]:
    """Claim up to ``n`` items for ``annotator`` inside the caller's write transaction."""
    runs = segments(order, seed)
    now = utcnow()
    at = sa.literal(now, sa.DateTime(timezone=True))
    most = connection.execute(sa.select(sa.func.max(item_queue.c.people))).scalar()
    counts = range(min(overlap, (most or 0) + 1))
    postgres = connection.dialect.name == "postgresql"
    deadline = time.monotonic() + LOCK_PATIENCE_S
    granted: list[str] = []
    seen: list[str] = []
    for segment in runs:
        # Each round locks candidates the others are not holding, then re-checks them in a
        # fresh statement: under READ COMMITTED that sees claims committed since the first.
        while len(granted) < n:
            need = n - len(granted)
            only: list[sa.ColumnElement[bool]] = [item_queue.c.item_id.not_in(seen)]
            if dataset is not None:
                only.append(item_queue.c.dataset == dataset)
            found = [
                row
                for people in counts
                for row in _candidates(
                    connection,
                    segment,
                    people,
                    [*only, *_open_to(annotator, overlap, at)],
                    need,
                    lock=postgres,
                )
            ]
            candidates = [row[0] for row in sorted(found, key=lambda row: row[1:])[:need]]
            if not candidates:
                # Other claimers hold the locks on what is left only for a moment: wait for
                # them rather than report "nothing open" while items still are.
                if not postgres or deadline < time.monotonic():
                    break
                unlocked = (
                    _candidates(
                        connection,
                        segment,
                        people,
                        [*only, *_open_to(annotator, overlap, at)],
                        1,
                        lock=False,
                    )
                    for people in counts
                )
                if not any(unlocked):
                    break
                time.sleep(LOCK_WAIT_S)
                continue
            seen.extend(row[0] for row in found)
            still_open = _still_open(connection, candidates, annotator, overlap, at)
            if still_open:
                connection.execute(
                    sa.insert(claims),
                    [
                        {
                            "item_id": item_id,
                            "annotator": annotator,
                            "claimed_at": now,
                            "expires_at": now + timedelta(seconds=ttl_s),
                        }
                        for item_id in still_open
                    ],
                )
            granted.extend(sorted(still_open, key=candidates.index))
    return granted


def _still_open(
    connection: sa.Connection,
    candidates: list[str],
    annotator: str,
    overlap: int,
    at: sa.ColumnElement[datetime],
) -> list[str]:
    """Which of the locked candidates are open still, as the latest commits see them."""
    query = sa.select(item_queue.c.item_id).where(
        item_queue.c.item_id.in_(candidates), *_open_to(annotator, overlap, at)
    )
    return list(connection.execute(query).scalars())


def release(connection: sa.Connection, item: str, annotator: str) -> None:
    """Let a claim lapse now."""
    connection.execute(
        sa.update(claims)
        .where(claims.c.item_id == item, claims.c.annotator == annotator)
        .values(expires_at=utcnow())
    )
