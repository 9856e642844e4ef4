"""Bad widget input gets a message that says what to pass, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw


@pytest.fixture
def store(tmp_path: Path) -> Iterator[lw.Store]:
    """Input is checked before the store is touched: one backend is enough here."""
    with lw.Store(tmp_path / "labels.db", annotator="tester") as opened:
        yield opened


TOKENS = ["2", "+2", "\n", "4"]
SCORES = [-0.1, -0.2, -0.3, -0.4]


def refused(store: lw.Store, error: type[Exception], message: str, **kwargs: Any) -> None:
    with pytest.raises(error, match=message):
        lw.StepLabeler(store=store, **kwargs)
    assert store.items() == []


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        (None, TypeError, r"steps is None: pass the output's steps as a list, e\.g\. steps=\["),
        (["a", 3, None], TypeError, "step 1 is 3: each step is a string, or a non-empty list"),
        ("one string", TypeError, r"steps is one string; pass a list of step strings .*lw\.label"),
        ([], ValueError, "steps is empty: there is nothing to label; pass steps="),
        (["", "  \n"], ValueError, "every step is blank"),
        (["a", []], TypeError, r"step 1 is \[\]: each step is a string, or a non-empty list"),
        (["a", ["b", 2]], TypeError, r"step 1 is \['b', 2\]"),
        ({"a": 1}, TypeError, "steps must be a list of strings"),
        (7, TypeError, "steps must be a list of strings, e.g. steps=.*, not 7"),
    ],
)
def test_bad_steps(store: lw.Store, steps: Any, error: type[Exception], message: str) -> None:
    refused(store, error, message, prompt="q", steps=steps)


def test_steps_may_be_any_iterable_of_strings(store: lw.Store) -> None:
    widget = lw.StepLabeler("q", (s for s in ["a", "b"]), store=store)
    assert widget.steps == ["a", "b"]


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (None, 'prompt must be a string, not None: pass the text itself \\(or "" for none\\)'),
        (3, "prompt must be a string, not int 3"),
        (["q"], r"prompt must be a string, not list \['q'\]"),
    ],
)
def test_bad_prompt(store: lw.Store, prompt: Any, message: str) -> None:
    refused(store, TypeError, message, prompt=prompt, steps=["a"])


@pytest.mark.parametrize(
    ("suggestions", "error", "message"),
    [
        (5, TypeError, r"suggestions must be a list with one \{'value', 'confidence', 'source'\}"),
        ("abc", TypeError, "suggestions must be a list"),
        ([1], TypeError, r"suggestion 0 is 1: pass a dict such as \{'value': -1"),
        ([{"value": 2}], ValueError, "suggestion 0: the value must be -1, 0 or 1, not 2"),
        ([None, {"value": 1, "source": 3}], TypeError, "suggestion 1: the source must be a str"),
        ([{"value": 1, "confidence": True}], ValueError, "confidence must be in"),
        ([None, None, None], ValueError, "3 suggestions for 2 steps"),
    ],
)
def test_bad_suggestions(
    store: lw.Store, suggestions: Any, error: type[Exception], message: str
) -> None:
    refused(store, error, message, prompt="q", steps=["a", "b"], suggestions=suggestions)


@pytest.mark.parametrize(
    ("heatmap", "error", "message"),
    [
        ({"tokens": TOKENS}, ValueError, "tokens=… need token_scores=…: one float per token"),
        ({"token_scores": SCORES}, ValueError, "token_scores=… need tokens=…: the token strings"),
        ({"tokens": "2+2\n4", "token_scores": SCORES}, TypeError, "tokens is one string"),
        (
            {"tokens": TOKENS, "token_scores": SCORES[:3], "step_token_counts": [3, 1]},
            ValueError,
            "4 tokens but 3 scores: each token needs exactly one score",
        ),
        (
            {"tokens": TOKENS, "token_scores": SCORES},
            ValueError,
            "the step token counts add up to 0, but there are 4 tokens",
        ),
        (
            {"tokens": TOKENS, "token_scores": SCORES, "step_token_counts": [4]},
            ValueError,
            "step_token_counts has 1 entries for 2 steps: one count per step",
        ),
        (
            {"tokens": [*TOKENS[:3], 4], "token_scores": SCORES, "step_token_counts": [3, 1]},
            TypeError,
            "token 3 is 4; tokens must be strings",
        ),
        (
            {
                "tokens": TOKENS,
                "token_scores": SCORES,
                "step_token_counts": [3, 1],
                "score_kind": "prob",
            },
            ValueError,
            "score_kind is one of logprob, entropy, score, not 'prob'",
        ),
    ],
)
def test_bad_tokens_and_scores(
    store: lw.Store, heatmap: dict[str, Any], error: type[Exception], message: str
) -> None:
    refused(store, error, message, prompt="q", steps=["2+2", "4"], **heatmap)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queue": "abc"}, r"queue is one string; pass a list of item ids, e\.g\. \[item_id\]"),
        ({"queue": ["x"], "tokens": TOKENS}, "tokens and token_scores go with one item's steps"),
    ],
)
def test_bad_queues(store: lw.Store, kwargs: dict[str, Any], message: str) -> None:
    refused(store, TypeError, message, **kwargs)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (("q", None, "b"), "answer_a must be a string, not None: pass the text itself"),
        (("q", "a", 3), "answer_b must be a string, not int 3"),
        (("q", ["step 1", "step 2"], "b"), r"answer_a is a list of steps; pass one string, e\.g\."),
        ((None, "a", "b"), "prompt must be a string, not None"),
    ],
)
def test_bad_pair_input(store: lw.Store, texts: tuple[Any, Any, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        lw.PairLabeler(*texts, store=store)
    with pytest.raises(TypeError, match=message):
        lw.compare(texts[1], texts[2], prompt=texts[0], store=store)
    assert store.comparisons() == []
