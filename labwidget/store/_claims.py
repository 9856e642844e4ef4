"""Handing out items to annotators so that each gets up to k distinct ones, safely at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from labwidget.store._events import utcnow
from labwidget.store.schema import claims, items, label_events


def _annotators_of(now: sa.ColumnElement[datetime]) -> sa.ScalarSelect[int]:
    """How many distinct annotators hold an unexpired claim on, or have labeled, an item."""
    holders = sa.union(
        sa.select(claims.c.annotator).where(
            claims.c.item_id == items.c.id, claims.c.expires_at > now
        ),
        sa.select(label_events.c.annotator).where(label_events.c.item_id == items.c.id),
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
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=items)
        candidates = list(connection.execute(query).scalars())
        if not candidates:
            break
        seen.extend(candidates)
        still_open = list(
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
