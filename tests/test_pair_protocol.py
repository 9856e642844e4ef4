"""The pairwise preference path, driven by the exact messages the browser sends."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from tests.messages import deliver, replies, state_updates


def send_preference(
    widget: lw.PairLabeler,
    preference: Any,
    strength: Any = 1,
    *,
    event_id: str | None = None,
    duration_ms: Any = 2345,
    **overrides: Any,
) -> str:
    """Send what js/pair.ts sends for one keypress; returns the event id."""
    event_id = event_id or str(uuid.uuid4())
    event = {
        "kind": "preference",
        "id": event_id,
        "comparison": widget.comparison_id,
        "preference": preference,
        "strength": strength,
        "t_client": 1.7e12,
        "duration_ms": duration_ms,
        **overrides,
    }
    deliver(widget, event)
    return event_id


def current(store: lw.Store) -> list[tuple[Any, ...]]:
    return [
        (r["event_id"], r["preference"], r["strength"], r["duration_ms"], r["annotator"])
        for r in store.preferences()
    ]


@pytest.fixture
def pair(store: lw.Store) -> lw.PairLabeler:
    return lw.compare("2+3*4 = 20", "2+3*4 = 14", prompt="What is 2+3*4?", store=store)


def test_a_preference_is_committed_then_acked(pair: lw.PairLabeler, store: lw.Store) -> None:
    event_id = send_preference(pair, "b", 2)
    assert replies(pair) == [{"kind": "ack", "id": event_id}]
    assert current(store) == [(event_id, "b", 2.0, 2345, "tester")]
    [row] = store.preferences()
    assert (row["prompt"], row["answer_a"], row["answer_b"]) == (
        "What is 2+3*4?",
        "2+3*4 = 20",
        "2+3*4 = 14",
    )
    assert (pair.preference, pair.strength) == ("b", 2.0)
    # The ack leaves first; the saved state follows in one update.
    kinds = [m["data"].get("method") for m in pair.comm.published if m["data"]]
    assert kinds[-2:] == ["custom", "update"]
    assert state_updates(pair)[-1] == {"preference": "b", "strength": 2.0}


def test_a_tie_has_no_strength_and_the_newest_preference_wins(
    pair: lw.PairLabeler, store: lw.Store
) -> None:
    send_preference(pair, "a", 1)
    tie = send_preference(pair, "tie", None, duration_ms=800)
    assert current(store) == [(tie, "tie", None, 800, "tester")]
    assert (pair.preference, pair.strength) == ("tie", None)


def test_a_resent_event_is_stored_once_and_acked_again(
    pair: lw.PairLabeler, store: lw.Store
) -> None:
    event_id = send_preference(pair, "a", 1)
    send_preference(pair, "a", 1, event_id=event_id)
    assert replies(pair) == [{"kind": "ack", "id": event_id}] * 2
    assert len(store.preferences()) == 1
    assert store.stats()["preference_events"] == 1


def test_a_late_resend_of_an_older_event_does_not_undo_a_newer_one(
    pair: lw.PairLabeler, store: lw.Store
) -> None:
    older = send_preference(pair, "a", 1)
    newer = send_preference(pair, "b", 2)
    send_preference(pair, "a", 1, event_id=older)
    assert current(store)[0][:3] == (newer, "b", 2.0)
    assert (pair.preference, pair.strength) == ("b", 2.0)


@pytest.mark.parametrize(
    ("preference", "strength", "overrides", "message"),
    [
        ("c", 1, {}, "not saved: a preference is 'a', 'b' or 'tie', not 'c'"),
        (None, None, {}, "not saved: a preference is 'a', 'b' or 'tie', not None"),
        ("a", 7, {}, "not saved: a strength is between 0 and 3, not 7"),
        ("a", -1, {}, "not saved: a strength is between 0 and 3, not -1"),
        ("a", "2", {}, "not saved: strength must be a finite number or null, not '2'"),
        ("a", True, {}, "not saved: strength must be a finite number or null, not True"),
        ("a", 1, {"duration_ms": -5}, "not saved: duration_ms cannot be negative (-5)"),
        (
            "a",
            1,
            {"comparison": "someone-else"},
            "not saved: the event is for comparison 'someone-else', not '{cid}'",
        ),
    ],
)
def test_a_rejected_event_gets_an_error_and_nothing_is_stored(
    pair: lw.PairLabeler,
    store: lw.Store,
    preference: Any,
    strength: Any,
    overrides: dict[str, Any],
    message: str,
) -> None:
    event_id = send_preference(pair, preference, strength, **overrides)
    expected = message.format(cid=pair.comparison_id)
    assert replies(pair) == [{"kind": "error", "id": event_id, "message": expected}]
    assert store.stats()["preference_events"] == 0
    assert (pair.preference, pair.strength) == (None, None)


def test_a_failed_write_is_reported_not_acked(
    pair: lw.PairLabeler, store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(*_: Any, **__: Any) -> bool:
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "record_preference", broken_disk)
    event_id = send_preference(pair, "a", 1)
    assert replies(pair) == [
        {"kind": "error", "id": event_id, "message": "not saved: OSError: disk I/O error"}
    ]
    assert pair.preference is None


def test_rerunning_the_cell_reuses_the_comparison_and_shows_the_saved_preference(
    store: lw.Store,
) -> None:
    first = lw.PairLabeler("p", "left", "right", store=store)
    send_preference(first, "b", 2)
    again = lw.PairLabeler("p", "left", "right", store=store)
    assert again.comparison_id == first.comparison_id
    assert (again.preference, again.strength) == ("b", 2.0)
    assert len(store.comparisons()) == 1


def test_another_annotators_preference_is_not_shown_as_mine(store_url: str) -> None:
    with lw.Store(store_url, annotator="alice") as alice:
        send_preference(lw.PairLabeler("p", "x", "y", store=alice), "a", 1)
    with lw.Store(store_url, annotator="bob") as bob:
        assert lw.PairLabeler("p", "x", "y", store=bob).preference is None


def test_texts_are_cleaned_like_the_step_labeler_does(store: lw.Store) -> None:
    pair = lw.PairLabeler("p\x00", "bad \ud800", "fine", store=store)
    assert (pair.prompt, pair.answer_a) == ("p\ufffd", "bad \ufffd")
    assert store.comparisons()[0]["answer_a"] == "bad \ufffd"


def test_an_acked_preference_is_readable_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "pair.db"
    pair = lw.compare("A", "B", prompt="p", store=lw.Store(path))
    event_id = send_preference(pair, "tie", None, duration_ms=1234.6)
    assert replies(pair)[-1] == {"kind": "ack", "id": event_id}
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT event_id, preference, strength, duration_ms, client_time FROM preference_events"
        ).fetchall()
    assert rows == [(event_id, "tie", None, 1235, 1.7e12)]


def test_compare_is_a_pair_labeler_with_the_prompt_first(store: lw.Store) -> None:
    pair = lw.compare("left", "right", prompt="q", store=store, dataset="evals", meta={"m": 1})
    assert isinstance(pair, lw.PairLabeler)
    assert (pair.prompt, pair.answer_a, pair.answer_b) == ("q", "left", "right")
    [row] = store.comparisons(dataset="evals")
    assert (row["id"], row["meta"]) == (pair.comparison_id, {"m": 1})


def test_unknown_arguments_are_refused(store: lw.Store) -> None:
    with pytest.raises(TypeError):
        lw.PairLabeler("p", "a", "b", store=store, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        lw.compare("a", "b", prompt="p", store=store, colour="red")  # type: ignore[call-arg]
