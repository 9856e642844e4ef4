"""store.summary(): every figure against literal values, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw

DATA = Path(__file__).parent / "data"
# A Wednesday. In UTC its week starts Monday 2 Nov 00:00; in Asia/Kolkata (UTC+5:30) at
# Sunday 1 Nov 18:30 UTC, so an event at 19:00 UTC that Sunday is in Kolkata's week only.
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=timezone.utc)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def fill(store: lw.Store) -> dict[str, str]:
    """Four items, one comparison, people's and machines' labels at known times."""
    ids = {
        "A": store.add_item("1+1?", ["a", "b"], dataset="math"),
        "B": store.add_item("2+2?", ["c", "d"], dataset="math"),
        "C": store.add_item("3+3?", ["e"], dataset="code"),
        "D": store.add_item("4+4?", ["f"], dataset="math"),
        "P": store.add_comparison("which?", "x", "y", dataset="code"),
    }
    A, B, C, P = ids["A"], ids["B"], ids["C"], ids["P"]

    def rate(item: str, step: int, value: int | None, who: str, when: datetime, **kw: Any) -> None:
        store.record_label(item=item, step=step, value=value, annotator=who, created_at=when, **kw)

    rate(A, 0, 1, "ana", at(1, 18), duration_ms=60_000)
    rate(A, 1, -1, "ana", at(1, 19), duration_ms=120_000)
    # After an hour away: counts as the idle cap, 10 minutes. It also replaces ana's +1.
    rate(A, 0, -1, "ana", at(2, 9), duration_ms=3_600_000)
    store.finish(item=A, reason="found_error", annotator="ana", created_at=at(2, 9, 1),
                 duration_ms=30_000)  # fmt: skip
    store.flag_step(item=A, step=1, annotator="ana", created_at=at(2, 9, 2), duration_ms=10_000)
    store.flag_step(item=A, step=1, flagged=False, annotator="ana", created_at=at(2, 9, 3),
                    duration_ms=5_000)  # fmt: skip
    rate(B, 0, 0, "bo", at(3, 10), duration_ms=20_000)
    rate(B, 1, None, "bo", at(3, 10, 1), duration_ms=1_000)  # a cleared rating: no label
    store.record_preference(P, "a", annotator="bo", created_at=at(3, 11), duration_ms=90_000)
    for step in (0, 1):
        rate(B, step, 1, "prm-7b", at(3, 12), source="model:prm-7b")
    rate(C, 0, -1, "bisect", at(3, 12), source="auto:bisect")
    # As a PRM800K line is imported: the steps carry no time, the finish the item's total.
    rate(C, 0, 1, "cy", at(4, 8))
    store.finish(item=C, reason="solution", annotator="cy", created_at=at(4, 8),
                 duration_ms=300_000)  # fmt: skip
    store.claim(3, annotator="dee", overlap=5)  # A, B and C: only B is claimed and not done
    return ids


@pytest.fixture
def filled(store: lw.Store) -> lw.Store:
    fill(store)
    return store


def test_summary_figures(filled: lw.Store) -> None:
    summary = filled.summary(now=NOW)
    assert summary["options"] == {
        "since": None, "until": None, "dataset": None, "timezone": "UTC", "week_start": "monday",
        "weekly_cap_h": None, "idle_cap_s": 600, "bucket": "hour",
    }  # fmt: skip
    assert summary["totals"] == {
        "labels": 14, "human": 11, "automatic": 3, "hours": 1_236_000 / 3_600_000, "annotators": 3,
    }  # fmt: skip
    assert summary["sources"] == {"human": 11, "model:prm-7b": 2, "auto:bisect": 1}
    h = 3_600_000
    assert summary["annotators"] == [
        {"annotator": "ana", "source": "human", "labels": 6, "ms": 825_000, "hours": 825_000 / h},
        {"annotator": "bo", "source": "human", "labels": 3, "ms": 111_000, "hours": 111_000 / h},
        {"annotator": "cy", "source": "human", "labels": 2, "ms": 300_000, "hours": 300_000 / h},
        {"annotator": "prm-7b", "source": "model:prm-7b", "labels": 2, "ms": 0, "hours": 0.0},
        {"annotator": "bisect", "source": "auto:bisect", "labels": 1, "ms": 0, "hours": 0.0},
    ]  # fmt: skip
    timeline = [(r["start"], r["annotator"], r["source"], r["labels"]) for r in summary["timeline"]]
    assert timeline == [
        ("2026-11-01T18:00:00+00:00", "ana", "human", 1),
        ("2026-11-01T19:00:00+00:00", "ana", "human", 1),
        ("2026-11-02T09:00:00+00:00", "ana", "human", 4),
        ("2026-11-03T10:00:00+00:00", "bo", "human", 2),
        ("2026-11-03T11:00:00+00:00", "bo", "human", 1),
        ("2026-11-03T12:00:00+00:00", "bisect", "auto:bisect", 1),
        ("2026-11-03T12:00:00+00:00", "prm-7b", "model:prm-7b", 2),
        ("2026-11-04T08:00:00+00:00", "cy", "human", 2),
    ]
    no_ratings = {"-1": 0, "0": 0, "1": 0}
    assert summary["distribution"] == [
        {"dataset": "code", "source": "auto:bisect", "ratings": {**no_ratings, "-1": 1},
         "flags": 0, "finish": {}, "preferences": {}},
        {"dataset": "code", "source": "human", "ratings": {**no_ratings, "1": 1},
         "flags": 0, "finish": {"solution": 1}, "preferences": {"a": 1}},
        # ana's first +1 was replaced by -1, her flag cleared, bo's second rating cleared.
        {"dataset": "math", "source": "human", "ratings": {"-1": 2, "0": 1, "1": 0},
         "flags": 0, "finish": {"found_error": 1}, "preferences": {}},
        {"dataset": "math", "source": "model:prm-7b", "ratings": {**no_ratings, "1": 2},
         "flags": 0, "finish": {}, "preferences": {}},
    ]  # fmt: skip
    assert summary["queue"] == {"items": 4, "done": 2, "claimed": 1, "open": 1}


def week_hours(summary: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    return {r["annotator"]: (r["ms"], r["crossed"]) for r in summary["week"]["annotators"]}


def test_hours_this_week_depend_on_the_time_zone_and_the_cap(filled: lw.Store) -> None:
    # The cap: 0.2 h = 720,000 ms. ana's Sunday 19:00 UTC label is Monday 00:30 in Kolkata.
    utc = filled.summary(now=NOW, weekly_cap_h=0.2)
    assert (utc["week"]["start"], utc["week"]["end"]) == (
        "2026-11-02T00:00:00+00:00",
        "2026-11-09T00:00:00+00:00",
    )
    assert week_hours(utc) == {
        "ana": (645_000, False), "cy": (300_000, False), "bo": (111_000, False),
    }  # fmt: skip
    kolkata = filled.summary(now=NOW, weekly_cap_h=0.2, timezone="Asia/Kolkata")
    assert (kolkata["week"]["start"], kolkata["week"]["end"]) == (
        "2026-11-01T18:30:00+00:00",
        "2026-11-08T18:30:00+00:00",
    )
    assert week_hours(kolkata) == {
        "ana": (765_000, True), "cy": (300_000, False), "bo": (111_000, False),
    }  # fmt: skip
    assert kolkata["week"]["cap_h"] == 0.2
    # A week from Sunday 1 Nov 00:00 UTC holds all of ana's labels.
    sunday = filled.summary(now=NOW, week_start="sunday")
    assert sunday["week"]["start"] == "2026-11-01T00:00:00+00:00"
    assert week_hours(sunday)["ana"] == (825_000, False)
    # The week ignores the window and the dataset: a cap is on a person's whole week.
    assert week_hours(filled.summary(now=NOW, dataset="code", until="2026-11-02")) == week_hours(
        filled.summary(now=NOW)
    )


def test_the_store_settings_are_the_defaults(filled: lw.Store) -> None:
    assert filled.settings() == {}
    assert filled.set_setting("weekly_cap_h", "0.2") == 0.2
    assert filled.set_setting("timezone", "Asia/Kolkata") == "Asia/Kolkata"
    assert filled.settings() == {"weekly_cap_h": 0.2, "timezone": "Asia/Kolkata"}
    summary = filled.summary(now=NOW)
    assert week_hours(summary)["ana"] == (765_000, True)
    # An argument wins over the store's setting.
    assert week_hours(filled.summary(now=NOW, timezone="UTC", weekly_cap_h=1))["ana"] == (
        645_000,
        False,
    )
    assert filled.set_setting("weekly_cap_h", None) is None
    assert filled.settings() == {"timezone": "Asia/Kolkata"}
    assert filled.summary(now=NOW)["week"]["cap_h"] is None


def test_cap_status_for_one_person(filled: lw.Store) -> None:
    status = filled.cap_status("ana", weekly_cap_h=0.2, timezone="Asia/Kolkata", now=NOW)
    assert status == {
        "annotator": "ana",
        "hours_this_week": 765_000 / 3_600_000,
        "cap_h": 0.2,
        "crossed": True,
        "week_start": "2026-11-01T18:30:00+00:00",
        "week_end": "2026-11-08T18:30:00+00:00",
        "timezone": "Asia/Kolkata",
    }
    # The pairwise preference counts too; no cap means never crossed.
    assert filled.cap_status("bo", now=NOW)["hours_this_week"] == 111_000 / 3_600_000
    assert filled.cap_status("bo", now=NOW)["crossed"] is False
    # The store's own annotator is known even before a first label.
    assert filled.cap_status(now=NOW)["annotator"] == "tester"
    assert filled.cap_status(now=NOW)["hours_this_week"] == 0.0
    with pytest.raises(ValueError, match=r"no one named 'anna'.*annotators: ana, bisect, bo, cy"):
        filled.cap_status("anna", now=NOW)


def test_window_and_dataset(filled: lw.Store) -> None:
    window = filled.summary(now=NOW, since="2026-11-02", until="2026-11-04")
    assert window["options"]["since"] == "2026-11-02T00:00:00+00:00"
    assert window["totals"]["labels"] == 10
    assert window["sources"] == {"human": 7, "model:prm-7b": 2, "auto:bisect": 1}
    math_human = next(r for r in window["distribution"] if r["dataset"] == "math")
    # ana's -1 at step 1 was given on 1 Nov, before the window.
    assert math_human["ratings"] == {"-1": 1, "0": 1, "1": 0}
    math = filled.summary(now=NOW, dataset="math")
    assert math["sources"] == {"human": 8, "model:prm-7b": 2}
    assert {r["dataset"] for r in math["distribution"]} == {"math"}
    assert math["queue"] == {"items": 3, "done": 1, "claimed": 1, "open": 1}
    # A date in a time zone means its local midnight.
    kolkata = filled.summary(now=NOW, since="2026-11-02", timezone="Asia/Kolkata")
    assert kolkata["options"]["since"] == "2026-11-01T18:30:00+00:00"
    assert kolkata["totals"]["labels"] == 13


def test_update_adds_only_what_is_new(store: lw.Store) -> None:
    ids = fill(store)
    before = store.summary(now=NOW, weekly_cap_h=0.2)
    assert store.update_summary(before, now=NOW) is before  # nothing new
    A, B = ids["A"], ids["B"]
    # A small batch: ana changes her mind on step 0 again, bo rates, prefers and finishes.
    store.record_label(item=A, step=0, value=1, annotator="ana", created_at=at(4, 9),
                       duration_ms=200_000)  # fmt: skip
    store.record_label(item=B, step=1, value=1, annotator="bo", created_at=at(4, 9),
                       duration_ms=7_000)  # fmt: skip
    store.record_preference(ids["P"], "tie", annotator="bo", created_at=at(4, 9, 5),
                            duration_ms=3_000)  # fmt: skip
    store.finish(item=B, reason="solution", annotator="bo", created_at=at(4, 9, 6))
    updated = store.update_summary(before, now=NOW)
    full = store.summary(now=NOW, weekly_cap_h=0.2)
    assert {k: v for k, v in updated.items() if k != "generated_at"} == {
        k: v for k, v in full.items() if k != "generated_at"
    }
    math_human = next(r for r in full["distribution"] if r["dataset"] == "math")
    assert math_human["ratings"] == {"-1": 1, "0": 1, "1": 2}
    assert week_hours(full)["ana"] == (845_000, True)
    assert full["queue"] == {"items": 4, "done": 3, "claimed": 0, "open": 1}
    # Stopping at a label event leaves the rest for the next update.
    partial = store.update_summary(before, upto_seq=before["seq"]["labels"] + 1, now=NOW)
    assert partial["totals"]["labels"] == before["totals"]["labels"] + 2  # ana's and bo's tie
    assert store.update_summary(partial, now=NOW)["totals"] == full["totals"]
    # One batch that replaces two labels (two keys) takes each one's old value away.
    with store.batch() as batch:
        batch.record("rating", item=A, step=1, value=1, annotator="ana", created_at=at(4, 10))
        batch.record("rating", item=B, step=0, value=-1, annotator="bo", created_at=at(4, 10))
    after = store.update_summary(updated, now=NOW)
    math_human = next(r for r in after["distribution"] if r["dataset"] == "math")
    assert math_human["ratings"] == {"-1": 1, "0": 0, "1": 3}
    assert after["distribution"] == store.summary(now=NOW, weekly_cap_h=0.2)["distribution"]


def test_an_imported_item_counts_its_total_time_once(store: lw.Store) -> None:
    lw.import_prm800k(store, DATA / "prm800k_sample.jsonl")
    summary = store.summary(now=NOW)
    hours = {r["annotator"][:8]: r["ms"] for r in summary["annotators"]}
    # total_time of each line: 91,234 + 5,120 + 23,000 and 40,551 + 8,007 ms; steps carry none.
    assert hours == {"1f7e4c58": 119_354, "5d2b9e11": 48_558}
    assert summary["options"]["bucket"] == "day"  # two months of labels: one bar a day


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weekly_cap_h": -1}, "weekly_cap_h is a number of hours above 0"),
        ({"weekly_cap_h": 0}, "weekly_cap_h is a number of hours above 0"),
        ({"timezone": "Mars/Olympus"}, "timezone is an IANA time zone name"),
        ({"week_start": "someday"}, "week_start is one of monday, tuesday"),
        ({"since": "2026-02-30"}, "since is a date such as 2026-11-02"),
        ({"until": "yesterday"}, "until is a date such as 2026-11-02"),
        ({"since": "2026-11-04", "until": "2026-11-02"}, "since .* must come before until"),
        ({"idle_cap_s": 0}, "idle_cap_s is a number of seconds above 0"),
    ],
)
def test_bad_options_say_what_they_must_be(
    filled: lw.Store, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        filled.summary(**options)


def test_bad_settings_are_refused_and_nothing_is_kept(filled: lw.Store) -> None:
    with pytest.raises(ValueError, match="weekly_cap_h is a number of hours above 0"):
        filled.set_setting("weekly_cap_h", -6)
    with pytest.raises(ValueError, match="there is no setting 'weekly_cap'; the settings are"):
        filled.set_setting("weekly_cap", 6)
    with pytest.raises(ValueError, match="timezone is an IANA"):
        filled.set_setting("timezone", "Berlin")
    assert filled.settings() == {}


def test_the_migration_makes_the_settings_table_and_the_finish_index(store: lw.Store) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(store.url)
    try:
        inspector = sa.inspect(engine)
        assert [c["name"] for c in inspector.get_columns("settings")] == [
            "name", "value", "updated_by", "updated_at",
        ]  # fmt: skip
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("label_events")}
        assert indexes["ix_label_events_finished"] == ["item_id"]
    finally:
        engine.dispose()
