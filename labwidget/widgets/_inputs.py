"""What a widget is given, checked before anything is stored: a clear message, never a traceback.

A labeler is made from a notebook cell, often from a variable that holds something other than
what was meant (None, a whole string, a number). Each check names the argument, says what it
got and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from labwidget.store import clean_text

STEPS_EXAMPLE = "steps=['2 + 2 = 4', 'So the answer is 4.']"


class Suggestion(TypedDict, total=False):
    """A suggested step rating: ``value`` (-1, 0, 1) and optional ``confidence`` and ``source``."""

    value: int
    confidence: float
    source: str


def check_text(value: Any, name: str) -> str:
    """A prompt or an answer: a string, cleaned as the store keeps it.

    >>> check_text(None, "prompt")
    Traceback (most recent call last):
    ...
    TypeError: prompt must be a string, not None: pass the text itself (or "" for none)
    """
    if not isinstance(value, str):
        what = "None" if value is None else f"{type(value).__name__} {value!r:.60}"
        raise TypeError(
            f'{name} must be a string, not {what}: pass the text itself (or "" for none)'
        )
    return clean_text(value)


def check_steps(steps: Any) -> list[Any]:
    """The steps of an item: a list of strings, or of lists of alternative strings (PRM800K).

    A single string is refused rather than taken apart: iterating it would make one step per
    character. ``labwidget.label(text)`` splits a text into steps.

    >>> check_steps(["a", ["b0", "b1"]])
    ['a', ['b0', 'b1']]
    >>> check_steps("2 + 2 = 4")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: steps is one string; pass a list of step strings (e.g. text.splitlines()), ...
    """
    if steps is None:
        raise TypeError(f"steps is None: pass the output's steps as a list, e.g. {STEPS_EXAMPLE}")
    if isinstance(steps, str):
        raise TypeError(
            "steps is one string; pass a list of step strings (e.g. text.splitlines()), "
            "or lw.label(text) to split it into steps"
        )
    if isinstance(steps, bytes | Mapping) or not isinstance(steps, Iterable):
        raise TypeError(f"steps must be a list of strings, e.g. {STEPS_EXAMPLE}, not {steps!r:.60}")
    checked = list(steps)
    if not checked:
        raise ValueError(f"steps is empty: there is nothing to label; pass {STEPS_EXAMPLE}")
    for number, step in enumerate(checked):
        texts = [step] if isinstance(step, str) else step
        if (
            isinstance(texts, str | bytes | Mapping)
            or not isinstance(texts, Sequence)
            or not texts
            or not all(isinstance(text, str) for text in texts)
        ):
            raise TypeError(
                f"step {number} is {step!r:.60}: each step is a string, or a non-empty list of "
                "alternative strings"
            )
    if all(isinstance(step, str) and not step.strip() for step in checked):
        raise ValueError("every step is blank: there is nothing to label")
    return checked


def check_suggestions(suggestions: Any, steps: int) -> list[Any]:
    """Suggestions as the page gets them: one per step (None where there is none), checked."""
    if suggestions is None:
        return [None] * steps
    if isinstance(suggestions, str | bytes | Mapping) or not isinstance(suggestions, Sequence):
        raise TypeError(
            "suggestions must be a list with one {'value', 'confidence', 'source'} dict (or "
            f"None) per step, not {suggestions!r:.60}"
        )
    if len(suggestions) > steps:
        raise ValueError(f"{len(suggestions)} suggestions for {steps} steps")
    checked: list[Any] = []
    for step, suggestion in enumerate(suggestions):
        if suggestion is None:
            checked.append(None)
            continue
        if not isinstance(suggestion, Mapping):
            raise TypeError(
                f"suggestion {step} is {suggestion!r:.60}: pass a dict such as "
                "{'value': -1, 'confidence': 0.8, 'source': 'model:prm'}, or None"
            )
        value, confidence = suggestion.get("value"), suggestion.get("confidence")
        if isinstance(value, bool) or value not in (-1, 0, 1):
            raise ValueError(f"suggestion {step}: the value must be -1, 0 or 1, not {value!r}")
        if confidence is not None and not (
            isinstance(confidence, int | float)
            and not isinstance(confidence, bool)
            and 0.0 <= confidence <= 1.0
        ):
            raise ValueError(f"suggestion {step}: confidence must be in [0, 1], not {confidence!r}")
        source = suggestion.get("source", "model:unknown")
        if not isinstance(source, str):
            raise TypeError(f"suggestion {step}: the source must be a string, not {source!r:.60}")
        checked.append({"value": value, "confidence": confidence, "source": source})
    return checked + [None] * (steps - len(checked))
