"""PRM800K labeling through the widget's messages: flags, alternatives, replacements, notes,
finish reasons, undo and time on task — committed, acked, and reflected in ``saved``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import labwidget as lw
from tests.messages import deliver, replies


def send(widget: lw.StepLabeler, kind: str = "label", **fields: Any) -> str:
    event_id = str(uuid.uuid4())
    event = {"kind": kind, "id": event_id, "item": widget.item_id, "t_client": 1.7e12, **fields}
    deliver(widget, event)
    return event_id


@pytest.fixture
def labeler(store: lw.Store) -> lw.StepLabeler:
    return lw.StepLabeler(
        prompt="Solve x + 1 = 3.",
        steps=["Subtract 1.", ["x = 3", "x = 2", "x = 1"], "Done."],
        store=store,
    )


def test_alternatives_reach_the_page(labeler: lw.StepLabeler) -> None:
    assert labeler.steps == ["Subtract 1.", "x = 3", "Done."]
    assert labeler.alternatives == [["Subtract 1."], ["x = 3", "x = 2", "x = 1"], ["Done."]]
    assert labeler.saved["ratings"] == [[None], [None, None, None], [None]]


def test_a_full_prm800k_pass(labeler: lw.StepLabeler, store: lw.Store) -> None:
    sent = [
        send(labeler, step=0, alt=0, label="rating", value=1, duration_ms=1200),
        send(labeler, step=1, alt=0, label="rating", value=-1, duration_ms=800),
        send(labeler, step=1, alt=1, label="rating", value=1, duration_ms=500),
        send(labeler, step=1, alt=0, label="choice", value=1),
        send(labeler, step=1, alt=2, label="flag", value=1),
        send(labeler, step=2, alt=0, label="replacement", text="So x = 2."),
        send(labeler, step=0, alt=0, label="note", text="fine"),
        send(labeler, label="finish", text="found_error", duration_ms=9000),
    ]
    assert replies(labeler) == [{"kind": "ack", "id": i} for i in sent]
    assert labeler.saved == {
        "ratings": [[1], [-1, 1, None], [None]],
        "flags": [[False], [False, False, True], [False]],
        "choices": [None, 1, None],
        "replacements": [None, None, "So x = 2."],
        "notes": ["fine", None, None],
        "finish": "found_error",
    }
    assert labeler.step_labels == [1, -1, None]
    durations = {(e["kind"], e["step"], e["alt"]): e["duration_ms"] for e in store.events()}
    assert durations[("rating", 0, 0)] == 1200
    assert durations[("finish", None, 0)] == 9000


def test_undo_is_a_new_event_and_updates_the_page(labeler: lw.StepLabeler, store: lw.Store) -> None:
    send(labeler, step=0, label="rating", value=1)
    send(labeler, step=0, label="rating", value=-1)
    undo_id = send(labeler, "undo", step=0, alt=0)
    assert replies(labeler)[-1] == {"kind": "ack", "id": undo_id}
    assert labeler.step_labels == [1, None, None]
    assert [e["value"] for e in store.events()] == [1, -1, 1]


def test_undo_with_nothing_to_undo_is_an_error(labeler: lw.StepLabeler) -> None:
    event_id = send(labeler, "undo", step=2, alt=0)
    assert replies(labeler) == [
        {
            "kind": "error",
            "id": event_id,
            "message": f"not saved: nothing to undo at step 2 of item {labeler.item_id!r}",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"step": 1, "alt": 3, "label": "rating", "value": 1}, "has no step 1 (alternative 3)"),
        ({"step": 0, "label": "flag", "value": 5}, "a flag is 1"),
        ({"step": 0, "label": "note", "text": ""}, "needs non-empty text"),
        ({"label": "finish", "text": "tired"}, "a finish reason is one of"),
        ({"step": 0, "label": "teleport"}, "unknown label kind 'teleport'"),
        ({"step": 1, "label": "choice", "value": 7}, "has no alternative 7"),
    ],
)
def test_bad_labels_are_refused_and_nothing_is_stored(
    labeler: lw.StepLabeler, store: lw.Store, fields: dict[str, Any], message: str
) -> None:
    event_id = send(labeler, **fields)
    (reply,) = replies(labeler)
    assert (reply["kind"], reply["id"]) == ("error", event_id)
    assert message in reply["message"]
    assert store.events() == []


def test_a_second_widget_on_the_same_item_shows_what_was_saved(
    labeler: lw.StepLabeler, store: lw.Store
) -> None:
    send(labeler, step=1, alt=2, label="flag", value=1)
    send(labeler, label="finish", text="give_up")
    again = lw.StepLabeler(prompt=labeler.prompt, steps=labeler.alternatives, store=store)
    assert again.saved["flags"][1] == [False, False, True]
    assert again.saved["finish"] == "give_up"


SUGGESTIONS = [
    {"value": 1, "confidence": 0.92, "source": "model:prm-tiny"},
    None,
    {"value": -1, "confidence": 0.61},
]


def test_an_accepted_suggestion_is_a_human_label_that_records_it(store: lw.Store) -> None:
    widget = lw.StepLabeler(prompt="p", steps=["a", "b", "c"], store=store, suggestions=SUGGESTIONS)
    assert widget.suggestions[2] == {"value": -1, "confidence": 0.61, "source": "model:unknown"}
    event_id = send(widget, step=0, alt=0, label="rating", value=1, accepts_suggestion=True)
    assert replies(widget) == [{"kind": "ack", "id": event_id}]
    (label,) = store.labels()
    assert (label["source"], label["value"]) == ("human", 1)
    assert label["meta"] == {"accepted_suggestion": SUGGESTIONS[0]}


@pytest.mark.parametrize(("step", "value"), [(0, -1), (1, 1)])
def test_accepting_a_suggestion_that_is_not_there_is_refused(
    store: lw.Store, step: int, value: int
) -> None:
    widget = lw.StepLabeler(prompt="p", steps=["a", "b", "c"], store=store, suggestions=SUGGESTIONS)
    send(widget, step=step, alt=0, label="rating", value=value, accepts_suggestion=True)
    assert replies(widget)[0]["kind"] == "error"
    assert store.events() == []


@pytest.mark.parametrize(
    ("suggestions", "message"),
    [
        ([{"value": 2}], "must be -1, 0 or 1"),
        ([{"value": 1, "confidence": 1.5}], "confidence must be in"),
        ([None, None, None, None], "4 suggestions for 3 steps"),
    ],
)
def test_bad_suggestions_are_refused(store: lw.Store, suggestions: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lw.StepLabeler(prompt="p", steps=["a", "b", "c"], store=store, suggestions=suggestions)


def test_a_generator_makes_alternatives_from_the_labeled_path(store: lw.Store) -> None:
    calls: list[tuple[str, list[str], int]] = []

    def generator(prompt: str, prefix: list[str], n: int) -> list[str]:
        calls.append((prompt, prefix, n))
        return [f"option {k}" for k in range(n)]

    widget = lw.StepLabeler(
        prompt="Solve.", steps=["a", ["b", "b2"], "c"], store=store, generator=generator
    )
    send(widget, step=1, label="choice", value=1)
    send(widget, step=1, label="replacement", text="b by hand")
    event_id = send(widget, "generate", step=2, n=2)
    assert replies(widget)[-1] == {"kind": "ack", "id": event_id}
    assert calls == [("Solve.", ["a", "b by hand"], 2)]
    assert widget.alternatives[2] == ["c", "option 0", "option 1"]
    assert widget.saved["ratings"][2] == [None, None, None]
    assert store.item(widget.item_id)["alternatives"][2] == ["c", "option 0", "option 1"]


@pytest.mark.parametrize(
    ("generator", "n", "message"),
    [
        (None, 3, "has no generator"),
        (lambda p, s, n: "one string", 3, "list of strings"),
        (lambda p, s, n: ["x"] * n, 99, "1 to 16"),
    ],
)
def test_generate_errors_reach_the_page(
    store: lw.Store, generator: Any, n: int, message: str
) -> None:
    widget = lw.StepLabeler(prompt="p", steps=["a"], store=store, generator=generator)
    send(widget, "generate", step=0, n=n)
    (reply,) = replies(widget)
    assert reply["kind"] == "error"
    assert message in reply["message"]
