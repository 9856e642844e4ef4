"""A labeler over many items: moving through the queue, progress, and resuming after a restart."""

from __future__ import annotations

import pytest

import labwidget as lw
from tests.messages import replies, state_updates
from tests.test_widget_prm800k import send


@pytest.fixture
def queue(store: lw.Store) -> list[str]:
    return [
        store.add_item(f"q{n}", [f"q{n} step 1", f"q{n} step 2"], dataset="queue") for n in range(4)
    ]


def test_the_queue_starts_at_the_first_item_and_moves_on_request(
    store: lw.Store, queue: list[str]
) -> None:
    widget = lw.StepLabeler(store=store, queue=queue)
    assert (widget.item_id, widget.prompt, widget.steps) == (
        queue[0],
        "q0",
        ["q0 step 1", "q0 step 2"],
    )
    assert widget.progress["position"] == 0
    assert (widget.progress["total"], widget.progress["done"]) == (4, 0)
    assert [m["msg_type"] for m in widget.comm.published] == ["comm_open"]
    event_id = send(widget, "goto", position=2)
    assert replies(widget) == [{"kind": "ack", "id": event_id}]
    assert (widget.item_id, widget.cursor, widget.progress["position"]) == (queue[2], 0, 2)
    # The next item arrives in one update, and it resets the page's cursor even when Python's
    # copy already said 0 (the page sends cursor moves only once the keys pause).
    [update] = state_updates(widget)
    assert update["item_id"] == queue[2]
    assert update["cursor"] == 0
    assert update["progress"]["position"] == 2


def test_labels_count_towards_progress_and_a_new_widget_resumes_where_work_stopped(
    store: lw.Store, queue: list[str]
) -> None:
    widget = lw.StepLabeler(store=store, queue=queue)
    send(widget, step=0, label="rating", value=1)
    send(widget, step=1, label="rating", value=1)
    assert (widget.progress["done"], widget.progress["session_labels"]) == (1, 2)
    send(widget, "goto", position=1)
    send(widget, label="finish", text="bad_problem")
    assert widget.progress["done"] == 2
    restarted = lw.StepLabeler(store=store, queue=queue)
    assert (restarted.item_id, restarted.progress["position"]) == (queue[2], 2)
    assert restarted.progress["session_labels"] == 0


def test_suggestions_come_from_the_item_meta(store: lw.Store) -> None:
    suggested = [{"value": -1, "confidence": 0.7, "source": "model:prm"}]
    item = store.add_item("p", ["a"], meta={"suggestions": suggested})
    widget = lw.StepLabeler(store=store, queue=[item])
    assert widget.suggestions == suggested


def test_goto_needs_a_queue_and_a_position(store: lw.Store, queue: list[str]) -> None:
    single = lw.StepLabeler(prompt="p", steps=["a"], store=store)
    send(single, "goto", position=1)
    assert replies(single)[0]["message"] == "not saved: this labeler has no queue"
    widget = lw.StepLabeler(store=store, queue=queue)
    send(widget, "goto", position="next")
    assert replies(widget)[0]["kind"] == "error"
    send(widget, "goto", position=99)
    assert widget.item_id == queue[-1]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"queue": [], "prompt": ""}, ValueError),
        ({"queue": ["missing"]}, KeyError),
        ({"queue": ["x"], "prompt": "p"}, TypeError),
    ],
)
def test_bad_queues_are_refused(store: lw.Store, kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        lw.StepLabeler(store=store, **kwargs)  # type: ignore[arg-type]
