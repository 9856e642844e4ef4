"""Handing out items to annotators so that each gets up to k distinct ones, safely at once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from labwidget.store._events import utcnow
from labwidget.store.schema import claims, items, label_events

LOCK_WAIT_S = 0.01
LOCK_PATIENCE_S = 5.0


def _locking(connection: sa.Connection, query: sa.Select[Any]) -> sa.Select[Any]:
    """On PostgreSQL, lock the rows a query finds, skipping rows other claimers hold."""
    if connection.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=items)
    return query


def _annotators_of(now: sa.ColumnElement[datetime]) -> sa.ScalarSelect[int]:
    """How many distinct annotators hold an unexpired claim on, or have labeled, an item."""
    holders = sa.union(
        sa.select(claims.c.annotator)
        .where(claims.c.item_id == items.c.id, claims.c.expires_at > now)
        .correlate(items),
        sa.select(label_events.c.annotator)
        .where(label_events.c.item_id == items.c.id)
        .correlate(items),
    ).subquery()
    return sa.select(sa.func.count()).select_from(holders).scalar_subquery()


def _open_to(
    annotator: str, overlap: int, now: sa.ColumnElement[datetime]
) -> list[sa.ColumnElement[bool]]:
    """Conditions for an item that ``annotator`` may claim."""
    had_it = sa.exists().where(claims.c.item_id == items.c.id, claims.c.annotator == annotator)
    labeled_it = sa.exists().where(
        label_events.c.item_id == items.c.id, label_events.c.annotator == annotator
    )
    return [~had_it, ~labeled_it, _annotators_of(now) < overlap]


def claim(
    connection: sa.Connection,
    n: int,
    *,
    annotator: str,
    overlap: int,
    ttl_s: float,
    dataset: str | None,
) -> list[str]:
    """Claim up to ``n`` items for ``annotator`` inside the caller's write transaction."""
    now = utcnow()
    deadline = time.monotonic() + LOCK_PATIENCE_S
    at = sa.literal(now, sa.DateTime(timezone=True))
    granted: list[str] = []
    seen: list[str] = []
    # Each round locks candidates the others are not holding, then re-checks them in a fresh
    # statement: under READ COMMITTED that sees claims committed since the first one began.
    while len(granted) < n:
        query = (
            sa.select(items.c.id)
            .where(*_open_to(annotator, overlap, at), items.c.id.not_in(seen))
            .order_by(items.c.created_at, items.c.id)
            .limit(n - len(granted))
        )
        if dataset is not None:
            query = query.where(items.c.dataset == dataset)
        candidates: list[str] = list(connection.execute(_locking(connection, query)).scalars())
        if not candidates:
            # Other claimers hold the locks on what is left only for a moment: wait for them
            # rather than report "nothing open" while items still are.
            if _locking(connection, query) is query or deadline < time.monotonic():
                break
            if connection.execute(query.limit(1)).first() is None:
                break
            time.sleep(LOCK_WAIT_S)
            continue
        seen.extend(candidates)
        still_open: list[str] = list(
            connection.execute(
                sa.select(items.c.id).where(
                    items.c.id.in_(candidates), *_open_to(annotator, overlap, at)
                )
            ).scalars()
        )
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


def release(connection: sa.Connection, item: str, annotator: str) -> None:
    """Let a claim lapse now."""
    connection.execute(
        sa.update(claims)
        .where(claims.c.item_id == item, claims.c.annotator == annotator)
        .values(expires_at=utcnow())
    )
