"""The event -> commit -> ack path, driven by the exact messages the browser sends."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import labwidget as lw
from labwidget._bundle import STATIC, digest
from labwidget.store.schema import label_events
from tests.messages import browser_message, deliver, replies, state_updates


def send_label(widget: lw.StepLabeler, step: int, value: Any, event_id: str | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    event = {
        "kind": "label",
        "id": event_id,
        "item": widget.item_id,
        "step": step,
        "alt": 0,
        "value": value,
        "t_client": 1.7e12,
    }
    deliver(widget, event)
    return event_id


@pytest.fixture
def labeler(store: lw.Store) -> lw.StepLabeler:
    return lw.StepLabeler(
        prompt="What is 2+3*4?", steps=["3*4=12", "2+12=14", "So 14."], store=store
    )


def test_a_label_is_committed_then_acked(labeler: lw.StepLabeler, store: lw.Store) -> None:
    event_id = send_label(labeler, 1, 1)
    assert replies(labeler) == [{"kind": "ack", "id": event_id}]
    assert [(r["event_id"], r["step"], r["value"]) for r in store.labels()] == [(event_id, 1, 1)]
    assert labeler.step_labels == [None, 1, None]
    # The ack leaves first: the page shows the label as saved from its own copy until the new
    # saved state arrives right after it, in one update message.
    kinds = [m["data"].get("method") for m in labeler.comm.published if m["data"]]
    assert kinds[-2:] == ["custom", "update"]
    update = state_updates(labeler)[-1]
    assert update["step_labels"] == [None, 1, None]
    assert update["saved"]["ratings"] == [[None], [1], [None]]


def test_a_stored_label_stays_acked_when_the_refresh_after_it_fails(
    labeler: lw.StepLabeler,
    store: lw.Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_refresh() -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(labeler, "_refresh", broken_refresh)
    event_id = send_label(labeler, 2, 1)
    assert replies(labeler) == [{"kind": "ack", "id": event_id}]
    assert [(r["event_id"], r["value"]) for r in store.labels()] == [(event_id, 1)]
    assert f"stored event {event_id} but could not refresh the widget" in caplog.text


def test_a_resent_event_is_stored_once_and_acked_again(
    labeler: lw.StepLabeler, store: lw.Store
) -> None:
    event_id = send_label(labeler, 0, -1)
    send_label(labeler, 0, -1, event_id=event_id)
    assert replies(labeler) == [{"kind": "ack", "id": event_id}] * 2
    assert len(store.events()) == 1


@pytest.mark.parametrize(
    ("step", "value", "message"),
    [
        (0, 7, "not saved: a step rating must be -1, 0 or +1, not 7"),
        (0, "1", "not saved: a step rating must be -1, 0 or +1, not '1'"),
        (0, None, "not saved: a step rating must be -1, 0 or +1, not None"),
        (3, 1, "not saved: there is no step 3"),
        (-1, 1, "not saved: there is no step -1"),
    ],
)
def test_a_rejected_event_gets_an_error_and_nothing_is_stored(
    labeler: lw.StepLabeler, store: lw.Store, step: int, value: Any, message: str
) -> None:
    event_id = send_label(labeler, step, value)
    assert replies(labeler) == [{"kind": "error", "id": event_id, "message": message}]
    assert store.events() == []
    assert labeler.step_labels == [None, None, None]


def test_an_event_for_another_item_is_refused(labeler: lw.StepLabeler, store: lw.Store) -> None:
    event = {"kind": "label", "id": "x", "item": "someone-else", "step": 0, "alt": 0, "value": 1}
    labeler._handle_msg(browser_message("custom", content=event))
    assert replies(labeler)[0]["kind"] == "error"
    assert store.events() == []


def test_an_unknown_kind_is_answered_with_an_error(labeler: lw.StepLabeler) -> None:
    labeler._handle_msg(browser_message("custom", content={"kind": "dance", "id": "x"}))
    assert replies(labeler) == [
        {"kind": "error", "id": "x", "message": "unknown message kind 'dance'"}
    ]


def test_a_failed_write_is_reported_not_acked(
    labeler: lw.StepLabeler, store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(*_: Any, **__: Any) -> bool:
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "record", broken_disk)
    event_id = send_label(labeler, 0, 1)
    assert replies(labeler) == [
        {"kind": "error", "id": event_id, "message": "not saved: OSError: disk I/O error"}
    ]
    assert labeler.step_labels == [None, None, None]


def test_an_acked_label_is_readable_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    widget = lw.StepLabeler(prompt="p", steps=["a", "b"], store=lw.Store(path))
    event_id = send_label(widget, 1, 0)
    assert replies(widget)[-1] == {"kind": "ack", "id": event_id}
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT event_id, step, value FROM label_events").fetchall()
    assert rows == [(event_id, 1, 0)]


def test_rerunning_the_cell_reuses_the_item_and_shows_saved_labels(store: lw.Store) -> None:
    first = lw.StepLabeler(prompt="p", steps=["a", "b"], store=store)
    send_label(first, 0, 1)
    again = lw.StepLabeler(prompt="p", steps=["a", "b"], store=store)
    assert again.item_id == first.item_id
    assert again.step_labels == [1, None]
    assert len(store.items()) == 1


def test_the_cursor_comes_from_the_page(labeler: lw.StepLabeler) -> None:
    labeler._handle_msg(browser_message("update", state={"cursor": 2}))
    assert labeler.cursor == 2


def test_unknown_arguments_are_refused(store: lw.Store) -> None:
    with pytest.raises(TypeError):
        lw.StepLabeler(prompt="p", steps=["a"], store=store, colour="red")  # type: ignore[call-arg]


def test_the_widget_ships_a_small_loader_and_names_its_bundle(labeler: lw.StepLabeler) -> None:
    state = labeler.get_state()
    assert state["_esm"] == (STATIC / "loader.js").read_text(encoding="utf-8")
    assert len(state["_esm"]) < 10_000  # not the 400 KB bundle, in every comm message
    assert state["_css"] == ""
    digests = {"js": digest("steps.js"), "css": digest("steps.css")}
    assert state["_bundle"] == {"name": "steps", **digests}


def test_a_page_without_the_server_copy_gets_the_bundle_from_the_kernel(
    labeler: lw.StepLabeler,
) -> None:
    deliver(labeler, {"kind": "bundle", "id": "b1"})
    [reply] = replies(labeler)
    assert reply["kind"] == "bundle"
    assert reply["id"] == "b1"
    assert reply["esm"] == (STATIC / "steps.js").read_text(encoding="utf-8")
    assert reply["css"] == (STATIC / "steps.css").read_text(encoding="utf-8")


def test_a_kernel_without_a_built_front_end_says_so(
    labeler: lw.StepLabeler, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("labwidget.widgets._base.STATIC", tmp_path)
    deliver(labeler, {"kind": "bundle", "id": "b2"})
    [reply] = replies(labeler)
    assert (reply["kind"], reply["id"]) == ("bundle", "b2")
    assert "esm" not in reply
    assert "run `npm run build`" in reply["error"]


@pytest.mark.parametrize("clock", [float("inf"), float("nan"), "soon", True])
def test_a_client_clock_that_is_not_a_finite_number_is_stored_as_none(
    labeler: lw.StepLabeler, store: lw.Store, clock: Any
) -> None:
    event_id = str(uuid.uuid4())
    event = {"kind": "label", "id": event_id, "item": labeler.item_id, "step": 0, "alt": 0}
    deliver(labeler, {**event, "value": 1, "t_client": clock})
    assert replies(labeler) == [{"kind": "ack", "id": event_id}]
    with store._read() as connection:
        stored = connection.execute(sa.select(label_events.c.client_time)).scalars().all()
    assert stored == [None]
