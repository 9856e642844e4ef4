"""A widget's comm-open message holds the same state and buffers as ipywidgets would send."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ipywidgets.widgets.widget import _put_buffers, _remove_buffers

import labwidget as lw
from labwidget.widgets._wire import split_buffers

STEPS = ["3*4=12", ["2+12=14", "2+12 = 14"], "So 14."]
HEATMAP = {
    "tokens": ["3*4", "=12", "2+12", "=14", "So", " 14."],
    "token_scores": [-0.1, -0.2, -1.5, -0.3, -0.05, -2.0],
    "step_token_counts": [2, 2, 2],
}


def rebuilt(state: dict[str, Any], paths: list[Any], buffers: list[Any]) -> dict[str, Any]:
    whole = copy.deepcopy(state)
    _put_buffers(whole, paths, buffers)
    return whole


STATES: list[dict[str, Any]] = [
    {"steps": ["a", "b"], "saved": {"ratings": [[None], [1]], "finish": None}, "n": 3},
    {"scores": {"view": memoryview(b"abcd"), "dtype": "float32"}, "plain": [[1.5, None]]},
    {"deep": [[[["x"]]]], "blob": [b"x", {"more": bytearray(b"y")}], "tuple": ("a", 1)},
]


@pytest.mark.parametrize("state", STATES)
def test_the_state_splits_as_ipywidgets_splits_it(state: dict[str, Any]) -> None:
    ours = split_buffers(state)
    theirs = _remove_buffers(state)
    assert rebuilt(*ours) == rebuilt(*theirs)
    assert sorted(map(str, ours[1])) == sorted(map(str, theirs[1]))
    assert ours[0] == theirs[0]


def test_a_labeler_opens_with_its_whole_state_and_buffers(store: lw.Store) -> None:
    labeler = lw.StepLabeler(prompt="What is 2+3*4?", steps=STEPS, store=store, **HEATMAP)
    [opened] = [m for m in labeler.comm.published if m["msg_type"] == "comm_open"]
    state, paths, buffers = _remove_buffers(labeler.get_state())
    assert opened["data"]["state"] == state
    assert sorted(map(str, opened["data"]["buffer_paths"])) == sorted(map(str, paths))
    assert rebuilt(opened["data"]["state"], opened["data"]["buffer_paths"], opened["buffers"]) == (
        rebuilt(state, paths, buffers)
    )
