"""What an event from the page may write, and writing it: one rule for every path.

The widgets run these in the kernel; labwidget's server extension runs the same functions for
the events it commits directly (``labwidget._direct``), so both paths accept and store exactly
the same events.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from labwidget.store import MAX_DURATION_MS, Store
from labwidget.store.schema import PREFERENCES

# Label kinds the page may send for a step (``finish`` is for the whole item).
STEP_KINDS = ("rating", "flag", "choice", "replacement", "note")
MAX_STRENGTH = 3.0


def commit_step_label(
    store: Store, item: str, steps: int, suggestions: Sequence[Any], event: dict[str, Any]
) -> None:
    """Commit a ``{kind: "label"}`` event on ``item``, which has ``steps`` steps.

    Raises:
        ValueError: the event is for another item, a step that does not exist, or names a
            suggestion that is not in ``suggestions``.
        LabelError: the store refuses it.
    """
    kind = event.get("label", "rating")
    timing: dict[str, Any] = {
        "event_id": str(event["id"]),
        "duration_ms": _whole(event.get("duration_ms")),
        "client_time": _number(event.get("t_client")),
    }
    if kind == "finish":
        if event.get("item") != item:
            raise ValueError(f"the event is for item {event.get('item')!r}")
        store.finish(item=item, reason=str(event.get("text")), **timing)
    elif kind in STEP_KINDS:
        step, alt = step_of(event, item, steps)
        if kind == "rating" and event.get("value") is None:
            raise ValueError("a step rating must be -1, 0 or +1, not None")
        store.record(
            kind,
            item=item,
            step=step,
            alt=alt,
            value=event.get("value"),
            text=event.get("text"),
            meta=_accepted(suggestions, event, step, alt),
            **timing,
        )
    else:
        raise ValueError(f"unknown label kind {kind!r}")


def commit_step_undo(store: Store, item: str, steps: int, event: dict[str, Any]) -> None:
    """Commit an ``{kind: "undo"}`` event: the step's previous label again, as a new event."""
    step, alt = step_of(event, item, steps)
    store.undo(
        item=item, step=step, alt=alt, kind=event.get("label", "rating"), event_id=str(event["id"])
    )


def commit_preference(store: Store, comparison: str, event: dict[str, Any]) -> bool:
    """Commit a ``{kind: "preference"}`` event on ``comparison``; True if it was new.

    Raises:
        ValueError: the event is for another comparison, or a field is out of range.
    """
    if event.get("comparison") != comparison:
        raise ValueError(
            f"the event is for comparison {event.get('comparison')!r}, not {comparison!r}"
        )
    preference = event.get("preference")
    if preference not in PREFERENCES:
        raise ValueError(f"a preference is 'a', 'b' or 'tie', not {preference!r}")
    strength = _finite(event, "strength")
    if strength is not None and not 0 <= strength <= MAX_STRENGTH:
        raise ValueError(f"a strength is between 0 and {MAX_STRENGTH:g}, not {strength:g}")
    duration = _finite(event, "duration_ms")
    if duration is not None and duration < 0:
        raise ValueError(f"duration_ms cannot be negative ({duration:g})")
    return store.record_preference(
        comparison,
        str(preference),
        strength=strength,
        event_id=str(event["id"]),
        # A page left open for weeks must not make its label unsavable: the time is capped.
        duration_ms=None if duration is None else min(round(duration), MAX_DURATION_MS),
        client_time=_finite(event, "t_client"),
    )


def step_of(event: dict[str, Any], item: str, steps: int) -> tuple[int, int]:
    """The ``(step, alternative)`` an event on ``item`` names, checked against its step count."""
    if event.get("item") != item:
        raise ValueError(f"the event is for item {event.get('item')!r}, not {item!r}")
    step, alt = event["step"], event.get("alt", 0)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise ValueError(f"there is no step {step!r}")
    if isinstance(alt, bool) or not isinstance(alt, int):
        raise ValueError(f"there is no alternative {alt!r}")
    return step, alt


def _accepted(
    suggestions: Sequence[Any], event: dict[str, Any], step: int, alt: int
) -> dict[str, Any] | None:
    """For a human rating that confirms a suggestion, the suggestion it confirmed."""
    if not event.get("accepts_suggestion"):
        return None
    suggestion = suggestions[step] if step < len(suggestions) else None
    if suggestion is None or alt != 0 or suggestion["value"] != event.get("value"):
        raise ValueError(f"step {step} has no suggestion of {event.get('value')!r} to accept")
    return {"accepted_suggestion": suggestion}


def _finite(event: dict[str, Any], field: str) -> float | None:
    """``event[field]`` as a finite float, None when absent or null; ValueError otherwise."""
    value = event.get(field)
    number = _number(value)
    if value is not None and number is None:
        raise ValueError(f"{field} must be a finite number or null, not {value!r}")
    return number


def _number(value: Any) -> float | None:
    """A finite JSON number as a float, anything else as None (client clocks are advisory)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None or not 0 <= number <= MAX_DURATION_MS else int(number)
