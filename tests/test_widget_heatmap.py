"""Per-token scores reach the page as one float32 buffer; bad scores are refused up front."""

from __future__ import annotations

import math
import struct

import pytest

import labwidget as lw
from labwidget.widgets._buffers import unpack_float32, unpack_strings

TOKENS = ["2", "+", "2", " =", " 4", "\n", "done"]
SCORES = [-0.1, -0.5, -0.1, -2.0, -0.01, -0.2, -3.5]


def test_token_scores_travel_as_binary(store: lw.Store) -> None:
    widget = lw.StepLabeler(
        prompt="p",
        steps=["2+2 = 4", "done"],
        store=store,
        tokens=TOKENS,
        token_scores=SCORES,
        step_token_counts=[6, 1],
        score_kind="logprob",
    )
    assert widget.token_scores["view"] == struct.pack("<7f", *SCORES)
    assert unpack_float32(widget.token_scores) == pytest.approx(SCORES)
    assert unpack_strings(widget.tokens) == TOKENS
    state = widget.get_state()
    assert state["step_token_counts"] == [6, 1]
    # The page gets the whole widget, tokens and all, in the comm's opening message.
    [opened] = widget.comm.published
    assert opened["msg_type"] == "comm_open"
    opening = opened["data"]["state"]
    assert opening["tokens"] == {"dtype": "utf8-nul", "shape": [7]}
    assert opening["steps"] == ["2+2 = 4", "done"]
    assert opening["step_labels"] == [None, None]
    assert sorted(opened["data"]["buffer_paths"]) == [["token_scores", "view"], ["tokens", "view"]]


@pytest.mark.parametrize(
    ("scores", "counts", "message"),
    [
        ([*SCORES[:-1], math.nan], [6, 1], "nan"),
        ([*SCORES[:-1], math.inf], [6, 1], "inf"),
        (SCORES[:-1], [6, 1], "tokens"),
        (SCORES, [5, 1], "add up"),
        (SCORES, [7], "1 entries for 2 steps"),
    ],
)
def test_bad_token_scores_are_refused(
    store: lw.Store, scores: list[float], counts: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lw.StepLabeler(
            prompt="p",
            steps=["2+2 = 4", "done"],
            store=store,
            tokens=TOKENS,
            token_scores=scores,
            step_token_counts=counts,
        )
    assert store.items() == []
