"""The Dashboard widget in the kernel: its traits, and following a store as labels land."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

import labwidget as lw
from labwidget.widgets import dashboard
from labwidget.widgets._buffers import unpack_float32
from labwidget.widgets.dashboard import pack_timeline

WAIT_S = 20.0


def wait_until(check: object, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("the dashboard did not catch up in time")
        time.sleep(0.02)


def an_item(store: lw.Store) -> str:
    return store.add_item("1+1?", ["1+1", "= 2"], dataset="math")


def test_traits_hold_the_summary_and_the_timeline_as_binary(store: lw.Store) -> None:
    item = an_item(store)
    when = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
    store.record_label(item=item, step=0, value=1, annotator="ana", created_at=when)
    store.record_label(item=item, step=1, value=1, annotator="ana", created_at=when)
    dash = lw.Dashboard(store, live=False, weekly_cap_h=6)
    assert dash.summary["totals"]["labels"] == 2
    assert dash.summary["week"]["cap_h"] == 6.0
    assert "timeline" not in dash.summary
    packed = dash.timeline
    assert packed["series"] == [["ana", "human"]]
    assert isinstance(packed["labels"]["view"], bytes)
    assert unpack_float32(packed["labels"]) == [2.0]
    assert unpack_float32(packed["start_h"]) == [when.replace(minute=0).timestamp() / 3600]
    assert unpack_float32(packed["series_index"]) == [0.0]
    dash.close()


def test_pack_timeline_keeps_every_row() -> None:
    rows = [
        {"start": "2026-11-01T18:30:00+00:00", "annotator": "a", "source": "human", "labels": 3},
        {"start": "2026-11-01T18:30:00+00:00", "annotator": "m", "source": "model:x", "labels": 9},
        {"start": "2026-11-02T18:30:00+00:00", "annotator": "a", "source": "human", "labels": 1},
    ]
    packed = pack_timeline(rows)
    assert packed["series"] == [["a", "human"], ["m", "model:x"]]
    assert unpack_float32(packed["series_index"]) == [0.0, 1.0, 0.0]
    hours = unpack_float32(packed["start_h"])
    assert [datetime.fromtimestamp(h * 3600, timezone.utc).isoformat() for h in hours] == [
        row["start"] for row in rows
    ]


def test_refresh_adds_new_labels(store: lw.Store) -> None:
    item = an_item(store)
    dash = lw.Dashboard(store, live=False)
    assert dash.summary["totals"]["labels"] == 0
    store.record_label(item=item, step=0, value=-1, annotator="bo", duration_ms=4_000)
    figures = dash.refresh()
    assert figures["totals"]["labels"] == 1
    assert dash.summary["totals"] == figures["totals"]
    assert dash.summary["distribution"][0]["ratings"] == {"-1": 1, "0": 0, "1": 0}
    assert dash.refresh() is figures  # nothing new, nothing sent
    dash.close()


def test_live_dashboard_follows_another_writer_and_stops_on_close(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "FOLLOW_IDLE_S", 0.5)
    with lw.Store(store_url, annotator="viewer") as viewer, lw.Store(store_url) as writer:
        item = an_item(writer)
        dash = lw.Dashboard(viewer, poll_s=0.05)
        assert dash.live is True
        threads = [t for t in threading.enumerate() if t.name.startswith("labwidget-dashboard")]
        assert len(threads) == 2
        with writer.batch() as batch:
            for step in (0, 1):
                batch.record("rating", item=item, step=step, value=1, annotator="cy",
                             duration_ms=30_000)  # fmt: skip
        wait_until(lambda: dash.summary["totals"]["labels"] == 2)
        assert [r["annotator"] for r in dash.summary["week"]["annotators"]] == ["cy"]
        # A pairwise preference alone (follow() watches label events) is found too.
        comparison = writer.add_comparison("which?", "x", "y")
        writer.record_preference(comparison, "b", annotator="cy", duration_ms=5_000)
        wait_until(lambda: dash.summary["totals"]["labels"] == 3, timeout=WAIT_S + 10)
        assert dash.summary["distribution"][0]["preferences"] == {"b": 1}
        dash.close()
        assert dash.live is False
        assert not [t for t in threads if t.name.endswith("count") and t.is_alive()]
        # The thread that waits on the store ends when follow() next gives up on quiet.
        wait_until(lambda: not any(t.is_alive() for t in threads), timeout=5)


def test_bad_options_are_refused(store: lw.Store) -> None:
    with pytest.raises(ValueError, match="weekly_cap_h is a number of hours above 0"):
        lw.Dashboard(store, weekly_cap_h=-2, live=False)
    with pytest.raises(ValueError, match="poll_s is a number of seconds above 0"):
        lw.Dashboard(store, poll_s=0)
    with pytest.raises(TypeError):
        lw.Dashboard(store, weekly_cap=6)  # type: ignore[call-arg]


def test_agreement_and_what_is_left_to_review_reach_the_summary(store: lw.Store) -> None:
    from tests.test_widget_modes import machines

    item = an_item(store)
    dash = lw.Dashboard(store, live=False)
    assert dash.summary["agreement"]["kappa"] == []
    assert dash.summary["review"] is None  # no rollouts, no review queue to read
    for who, values in (("ana", [1, -1]), ("bo", [1, 1])):
        for step, value in enumerate(values):
            store.record_label(item=item, step=step, value=value, annotator=who)
    machines(store, item, [(1, 1.0), (1, 0.75)], [1, -1])
    dash.close()
    dash = lw.Dashboard(store, live=False)
    [pair] = dash.summary["agreement"]["kappa"]
    assert (pair["a"], pair["b"], pair["items"], pair["steps"]) == ("ana", "bo", 1, 2)
    assert dash.summary["agreement"]["steps"] == 2
    # People rated both steps, so the router sends nothing to review.
    assert dash.summary["review"] == {"items": 0}
    dash.close()


def test_agreement_is_counted_again_at_most_every_few_seconds(
    store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = an_item(store)
    store.record_label(item=item, step=0, value=1, annotator="ana")
    dash = lw.Dashboard(store, live=False)
    monkeypatch.setattr(dashboard, "TEAM_EVERY_S", 3600.0)
    store.record_label(item=item, step=0, value=1, annotator="bo")
    dash.refresh()
    assert dash.summary["totals"]["labels"] == 2
    assert dash.summary["agreement"]["kappa"] == []  # not counted again yet
    monkeypatch.setattr(dashboard, "TEAM_EVERY_S", 0.0)
    dash.refresh()  # no new label, but the last ones are not in the agreement yet
    assert [(k["a"], k["b"]) for k in dash.summary["agreement"]["kappa"]] == [("ana", "bo")]
    figures = dash.refresh()
    assert dash.refresh() is figures  # counted: nothing more to do
    dash.close()
