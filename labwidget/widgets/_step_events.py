"""What a step label event from the page may write, and writing it: one rule for every path.

StepLabeler runs these in the kernel; labwidget's server extension runs the same functions for
labels it commits directly (``labwidget._direct``), so both paths accept and store exactly the
same events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labwidget.store import Store

# Label kinds the page may send for a step (``finish`` is for the whole item).
STEP_KINDS = ("rating", "flag", "choice", "replacement", "note")


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


def _number(value: Any) -> float | None:
    """A finite JSON number as a float, anything else as None (client clocks are advisory)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None or number < 0 or number > 2**31 - 1 else int(number)
