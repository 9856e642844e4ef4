"""ask() and background() without a browser: the loop waits on its thread, labels release it."""

from __future__ import annotations

import time
import uuid

import pytest

import labwidget as lw
from tests.messages import deliver


def wait_for_question(job: lw.Background, count: int) -> lw.StepLabeler:
    deadline = time.monotonic() + 10
    while len(job.area.children) < count:
        assert time.monotonic() < deadline, "the loop never asked"
        time.sleep(0.01)
    widget: lw.StepLabeler = job.area.children[count - 1]
    return widget


def rate(widget: lw.StepLabeler, step: int, value: int) -> None:
    deliver(widget, {"kind": "label", "id": str(uuid.uuid4()), "item": widget.item_id,
                     "step": step, "alt": 0, "label": "rating", "value": value})  # fmt: skip


def test_the_loop_waits_for_labels_and_goes_on(store: lw.Store) -> None:
    def loop() -> list[dict[str, object]]:
        return [lw.ask(["a", "b"], prompt=f"q{n}", store=store, timeout=10) for n in range(2)]

    job = lw.background(loop)
    first = wait_for_question(job, 1)
    rate(first, 0, 1)
    assert not job.done
    rate(first, 1, -1)
    second = wait_for_question(job, 2)
    deliver(second, {"kind": "label", "id": "f", "item": second.item_id, "label": "finish",
                     "text": "give_up"})  # fmt: skip
    answers = job.wait(10)
    assert [(a["ratings"], a["finish"], a["timed_out"]) for a in answers] == [
        ([1, -1], None, False),
        ([None, None], "give_up", False),
    ]


def test_a_question_times_out(store: lw.Store) -> None:
    job = lw.background(lambda: lw.ask(["a"], prompt="q", store=store, timeout=0.2))
    assert job.wait(10)["timed_out"] is True


def test_an_item_labeled_before_answers_at_once(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    store.record_label(item=item, step=0, value=0)
    job = lw.background(lambda: lw.ask(["a"], prompt="q", store=store, timeout=5))
    assert job.wait(5)["ratings"] == [0]


def test_the_loops_exception_reaches_the_notebook() -> None:
    def broken() -> None:
        raise KeyError("bad batch")

    job = lw.background(broken)
    with pytest.raises(KeyError, match="bad batch"):
        job.wait(5)


def test_ask_outside_background_says_how_to_use_it(store: lw.Store) -> None:
    with pytest.raises(RuntimeError, match=r"labwidget.background\(loop\)"):
        lw.ask(["a"], prompt="q", store=store)
