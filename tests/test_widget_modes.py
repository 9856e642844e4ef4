"""StepLabeler's modes: a model's suggestions from the store, blind items, review, adjudication."""

from __future__ import annotations

from typing import Any

import pytest

import labwidget as lw
from labwidget.data import StepDataset
from tests.messages import replies
from tests.test_agreement_adjudication import labels_of, tokenizer
from tests.test_widget_prm800k import send


def predict(store: lw.Store, item: str, scores: list[float], *, blind: bool = False) -> None:
    """Predictions of model:prm as ``suggest`` stores them."""
    for step, p in enumerate(scores):
        store.record(
            "prediction",
            item=item,
            step=step,
            value=1 if p >= 0.5 else -1,
            score=p,
            confidence=p if p >= 0.5 else 1 - p,
            source="model:prm",
            annotator="model:prm",
            meta={"threshold": 0.5, **({"blind": True} if blind else {})},
        )


def machines(store: lw.Store, item: str, mc: list[tuple[int, float]], judge: list[int]) -> None:
    """Rollout labels (value, success rate of 8) and the judge's verdicts, as autolabel stores."""
    for step, (value, rate) in enumerate(mc):
        store.record(
            "rating",
            item=item,
            step=step,
            value=value,
            confidence=rate,
            source="auto:mc",
            annotator="auto:mc",
            meta={"rate": rate, "n": 8, "successes": round(rate * 8)},
        )
    for step, value in enumerate(judge):
        store.record(
            "rating",
            item=item,
            step=step,
            value=value,
            source="auto:judge",
            annotator="auto:judge",
            meta={"rationale": f"step {step} checked"},
        )


def test_suggestions_from_the_store_carry_the_score_as_confidence(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b", "c"])
    predict(store, item, [0.9, 0.2, 0.75])
    widget = lw.StepLabeler("q", ["a", "b", "c"], store=store, suggestions="model:prm")
    assert widget.suggestions == [
        {"value": 1, "confidence": 0.9, "source": "model:prm"},
        {"value": -1, "confidence": pytest.approx(0.8), "source": "model:prm"},
        {"value": 1, "confidence": 0.75, "source": "model:prm"},
    ]
    send(widget, step=1, alt=0, label="rating", value=-1, accepts_suggestion=True)
    assert replies(widget)[-1]["kind"] == "ack"
    [label] = store.labels(item=item)
    assert (label["value"], label["source"]) == (-1, "human")
    assert label["meta"]["accepted_suggestion"]["source"] == "model:prm"


def test_a_blind_item_shows_no_suggestion_in_a_queue(store: lw.Store) -> None:
    seen, blind = store.add_item("q1", ["a", "b"]), store.add_item("q2", ["a", "b"])
    predict(store, seen, [0.9, 0.1])
    predict(store, blind, [0.9, 0.1], blind=True)
    widget = lw.StepLabeler(store=store, queue=[seen, blind], suggestions="model:prm")
    assert [s["value"] for s in widget.suggestions] == [1, -1]
    send(widget, "goto", position=1)
    assert widget.item_id == blind
    assert widget.suggestions == [None, None]
    # Accepting what the page never showed is refused.
    send(widget, step=0, alt=0, label="rating", value=1, accepts_suggestion=True)
    assert replies(widget)[-1]["kind"] == "error"


def test_the_review_queue_shows_both_machines_and_stores_the_human_beside_them(
    store: lw.Store,
) -> None:
    agreed, disputed = store.add_item("q1", ["a", "b"]), store.add_item("q2", ["a", "b", "c"])
    machines(store, agreed, [(1, 1.0), (1, 0.875)], [1, 1])
    machines(store, disputed, [(1, 1.0), (1, 0.75), (-1, 0.0)], [1, -1, -1])
    widget = lw.StepLabeler(store=store, queue="review")
    assert (widget.mode, widget.item_id, widget.progress["total"]) == ("review", disputed, 1)
    assert widget.cursor == 1  # the first step under review
    shown = widget.evidence[1]
    assert shown["review"] is True
    assert (shown["mc_rate"], shown["mc_successes"], shown["judge_value"]) == (0.75, 6, -1)
    assert shown["rationale"] == "step 1 checked"
    assert widget.evidence[0]["review"] is False
    assert widget.suggestions[1] == {"value": 1, "confidence": 0.75, "source": "auto:mc"}
    send(widget, step=1, alt=0, label="rating", value=1, accepts_suggestion=True)
    assert replies(widget)[-1]["kind"] == "ack"
    at_step = {(e["source"], e["value"]) for e in store.events(item=disputed) if e["step"] == 1}
    assert at_step == {("auto:mc", 1), ("auto:judge", -1), ("human", 1)}
    assert widget.progress["done"] == 1
    assert lw.auto.review_queue(store) == []


def test_a_review_shows_a_models_prediction_beside_the_machines(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    machines(store, item, [(1, 1.0), (1, 0.75)], [1, -1])
    predict(store, item, [0.9, 0.3])
    widget = lw.StepLabeler(store=store, queue="review", suggestions="model:prm")
    assert widget.evidence[1]["model"] == {
        "value": -1,
        "confidence": pytest.approx(0.7),
        "source": "model:prm",
    }
    assert widget.evidence[1]["judge_value"] == -1
    assert widget.suggestions[1]["source"] == "auto:mc"  # a is still the machines' label


def test_nothing_to_review_or_adjudicate_is_said(store: lw.Store) -> None:
    store.add_item("q", ["a"])
    with pytest.raises(ValueError, match=r"no step in .* waits for review"):
        lw.StepLabeler(store=store, queue="review")
    with pytest.raises(ValueError, match="waits for adjudication"):
        lw.StepLabeler(store=store, adjudicate=True)


@pytest.fixture
def disputed(store: lw.Store) -> str:
    """x finds the error at step 2, y at step 1 (as in test_agreement_adjudication)."""
    item = store.add_item("q", ["a", "b", "c"])
    for step, value in enumerate([1, 1, -1]):
        store.record_label(item=item, step=step, value=value, annotator="x")
    for step, value in enumerate([1, -1]):
        store.record_label(item=item, step=step, value=value, annotator="y")
    return item


def test_adjudication_shows_who_said_what_and_stores_the_verdict(
    store: lw.Store, disputed: str
) -> None:
    widget = lw.StepLabeler(store=store, adjudicate=True)
    assert (widget.mode, widget.item_id, widget.cursor) == ("adjudicate", disputed, 1)
    assert widget.evidence[1] == {
        "labels": [
            {"annotator": "x", "source": "human", "value": 1},
            {"annotator": "y", "source": "human", "value": -1},
        ]
    }
    assert widget.evidence[0] is None
    send(widget, step=1, alt=0, label="adjudication", value=1, duration_ms=900)
    assert replies(widget)[-1]["kind"] == "ack"
    [verdict] = store.events(kind="adjudication")
    assert (verdict["step"], verdict["value"], verdict["annotator"]) == (1, 1, store.annotator)
    assert verdict["meta"] == {"labels": {"x": 1, "y": -1}}
    assert widget.step_labels == [None, 1, None]
    assert widget.progress["done"] == 1
    send(widget, "undo", step=1, alt=0, label="adjudication")
    assert "replaced: press 1, 2 or 3" in replies(widget)[-1]["message"]
    send(widget, step=1, alt=0, label="adjudication", value=-1)
    assert widget.step_labels == [None, -1, None]  # the newest verdict settles the step
    # x's step 1 becomes wrong: the dataset takes the verdict in place of x's rating.
    assert labels_of(list(StepDataset(store, tokenizer()).rows())) == [
        [True, False],
        [True, False, False],
    ]


def test_only_a_disputed_step_takes_an_adjudication(store: lw.Store, disputed: str) -> None:
    widget = lw.StepLabeler(store=store, adjudicate=True)
    send(widget, step=0, alt=0, label="adjudication", value=1)
    assert "not in dispute" in replies(widget)[-1]["message"]
    plain = lw.StepLabeler(store=store, queue=[disputed])
    send(plain, step=1, alt=0, label="adjudication", value=1)
    assert "not in dispute" in replies(plain)[-1]["message"]
    assert store.events(kind="adjudication") == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"queue": "all"}, TypeError),
        ({"suggestions": "prm"}, TypeError),
        ({"adjudicate": "yes"}, ValueError),
        ({"adjudicate": True, "queue": "review"}, TypeError),
        ({"adjudicate": True, "prompt": "q", "steps": ["a"]}, TypeError),
    ],
)
def test_bad_modes_are_refused(store: lw.Store, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        lw.StepLabeler(store=store, **kwargs)


def test_a_crossed_weekly_cap_reaches_the_progress_bar_without_a_query_per_label(
    store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = store.add_item("q", ["a", "b"])
    store.record_label(item=item, step=0, value=1, duration_ms=600_000)
    assert "cap" not in lw.StepLabeler(store=store, queue=[item]).progress
    store.set_setting("weekly_cap_h", 0.1)
    widget = lw.StepLabeler(store=store, queue=[item])
    assert widget.progress["cap"] == {
        "hours_this_week": pytest.approx(1 / 6),
        "cap_h": 0.1,
        "crossed": True,
    }
    counts: list[None] = []
    monkeypatch.setattr(lw.Store, "cap_status", lambda self: counts.append(None))
    for step in (0, 1, 0):
        send(widget, step=step, alt=0, label="rating", value=1)
    assert counts == []  # counted once when the labeler opened, not once a label
