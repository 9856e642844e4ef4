"""The tallies the database keeps for the summary (migration 0008) agree with counting events."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import labwidget as lw
from labwidget.store import _summary_sql as q

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _event(rng: random.Random, ids: list[str]) -> tuple[str, dict[str, Any]]:
    """A random rating, flag or finish by a person or a model, with a time on task or none."""
    kind = rng.choice(("rating", "rating", "flag", "finish"))
    who = rng.choice(("ana", "bo", "prm"))
    fields: dict[str, Any] = {
        "item": rng.choice(ids),
        "annotator": who,
        "created_at": START + timedelta(minutes=rng.randrange(3000)),
        "duration_ms": rng.choice((None, 1_000, 700_000)),  # 700 s: over the 10-minute cap
    }
    if who == "prm":
        fields["source"] = "model:prm"
    if kind == "finish":
        fields["text"] = rng.choice(("solution", "give_up"))
    else:
        fields["step"] = rng.randrange(3)
        fields["value"] = rng.choice((-1, 0, 1, None) if kind == "rating" else (0, 1))
    return kind, fields


def test_the_tallies_count_what_the_events_say(store: lw.Store) -> None:
    """Single labels (triggers), a bulk import (set-based) and single labels again, on the
    same steps, so that labels replace labels written the other way."""
    rng = random.Random(8)
    ids = [store.add_item(f"q{k}", ["a", "b", "c"], dataset=rng.choice("mc")) for k in range(40)]
    for _ in range(150):
        kind, fields = _event(rng, ids)
        store.record(kind, **fields)
    with store.batch() as batch:
        for _ in range(2_500):
            kind, fields = _event(rng, ids)
            batch.record(kind, **fields)
    for _ in range(150):
        kind, fields = _event(rng, ids)
        store.record(kind, **fields)
    with store._read() as connection:
        for dataset in (None, "m"):
            f = q.Filters(None, None, dataset, q.TALLIED_CAP_MS)
            assert sorted(q.tallied_activity(connection, f)) == sorted(
                q.activity(connection, q.LABELS, f)
            )
            assert q.tallied_distribution(connection, f) == q.distribution(connection, q.LABELS, f)
        week = (START, START + timedelta(days=2))
        assert q.tallied_hours(connection, *week) == q.hours_between(
            connection, q.LABELS, *week, q.TALLIED_CAP_MS
        )


def test_a_window_off_the_hour_or_another_cap_counts_the_events(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    for minute, value in ((10, 1), (50, -1)):
        store.record_label(
            item=item, step=0, value=value, created_at=START + timedelta(minutes=minute),
            duration_ms=900_000,
        )  # fmt: skip
    half = store.summary(since=START + timedelta(minutes=30), now=START)
    assert half["distribution"][0]["ratings"] == {"-1": 1, "0": 0, "1": 0}
    assert half["totals"]["labels"] == 1
    longer = store.summary(idle_cap_s=1_200, now=START)
    assert longer["annotators"][0]["ms"] == 1_800_000
    assert store.summary(now=START)["annotators"][0]["ms"] == 1_200_000
