"""What the store keeps of an event's time and duration: UTC times, durations its columns hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import labwidget as lw

PARIS_WINTER = timezone(timedelta(hours=1))


def test_an_aware_time_is_kept_as_the_same_instant_in_utc(store: lw.Store) -> None:
    with store.batch() as batch:
        item = batch.add_item(
            "q", ["a"], created_at=datetime(2026, 1, 2, 9, 30, tzinfo=PARIS_WINTER)
        )
    store.record_label(
        item=item, step=0, value=1, created_at=datetime(2026, 1, 2, 10, tzinfo=PARIS_WINTER)
    )
    [label] = store.labels()
    assert label["created_at"] == "2026-01-02T09:00:00+00:00"
    assert store.item(item)["created_at"] == "2026-01-02T08:30:00+00:00"


def test_a_naive_time_is_taken_as_utc(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    store.record_label(item=item, step=0, value=1, created_at=datetime(2026, 1, 2, 10))
    assert store.labels()[0]["created_at"] == "2026-01-02T10:00:00+00:00"


@pytest.mark.parametrize("duration", [2**31, -1, 1.5, "10", True])
def test_a_duration_the_store_cannot_hold_is_refused_with_what_it_holds(
    store: lw.Store, duration: object
) -> None:
    item = store.add_item("q", ["a"])
    with pytest.raises(lw.LabelError, match=r"duration_ms must be whole milliseconds from 0 to"):
        store.record_label(item=item, step=0, value=1, duration_ms=duration)  # type: ignore[arg-type]
    assert store.events() == []


def test_the_largest_duration_is_kept(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    store.record_label(item=item, step=0, value=1, duration_ms=2**31 - 1)
    assert store.labels()[0]["duration_ms"] == 2**31 - 1
