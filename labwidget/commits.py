"""What a page's event may write, and writing it: one table for the kernel and the server.

A widget's page sends each event that writes (``{kind: "label"}``, ``"undo"``,
``"preference"``) to the widget in the kernel or, on an embedded store, straight to labwidget's
server extension (``labwidget.server``, on the kernel's signed word: ``labwidget._signing``).
Both commit it here, under the widget's *context* (what it shows: ``steps_context``,
``pair_context``), and both answer with ``reply``: the two routes accept and store exactly the
same events, and refuse the rest with the same words.

A new kind of event is one entry in ``COMMITS`` (or, for a step label, in ``LABELS``) and the
function that commits it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from labwidget.store import MAX_DURATION_MS, PREFERENCES, LabelError, Store, StoreError

log = logging.getLogger("labwidget")

Context = dict[str, Any]
Event = dict[str, Any]
# Commits an event under a context: True if it was new, False for a resent one, None where the
# store does not say (an undo).
Commit = Callable[[Store, Context, Event], bool | None]

MAX_STRENGTH = 3.0
# A refusal the page is told in the error's own words; anything else is logged as a bug too.
REFUSALS = (LabelError, StoreError, KeyError, TypeError, ValueError)


def steps_context(
    item: str,
    steps: int,
    suggestions: Sequence[Any],
    disputes: Sequence[dict[str, int] | None] | None = None,
) -> Context:
    """A step labeler's context: ``item``, its number of ``steps`` and their ``suggestions``.

    An adjudicating labeler's context also holds its ``disputes``: who rated each disputed
    step how (annotator -> rating), or None. Only such a context takes adjudications.
    """
    context = {"widget": "steps", "item": item, "steps": steps, "suggestions": list(suggestions)}
    if disputes is not None:
        context["disputes"] = list(disputes)
    return context


def pair_context(comparison: str) -> Context:
    """A pair labeler's context: the ``comparison`` it shows."""
    return {"widget": "pair", "comparison": comparison}


def commit(store: Store, context: Context, event: Event) -> bool | None:
    """Commit ``event`` under ``context`` with the function ``COMMITS`` names for it.

    Returns True for a new event, False for one stored before (a resend), None for an undo.

    Raises:
        ValueError: the context's widget sends no such event, or the event does not fit it.
        LabelError: the store refuses it.
    """
    widget, kind = context.get("widget"), event.get("kind")
    write = COMMITS.get((str(widget), str(kind)))
    if write is None:
        raise ValueError(f"a {widget} widget sends no {kind!r} messages")
    return write(store, context, event)


def reply(event_id: Any, error: Exception | None = None) -> dict[str, Any]:
    """The page's answer to an event: its ack, or (given the ``error``) why it was not saved.

    An error outside ``REFUSALS`` is a bug, not bad input: it is logged with its traceback, and
    the page still hears of it, for a failed write must never vanish in the kernel or server.
    """
    if error is None:
        return {"kind": "ack", "id": event_id}
    if isinstance(error, REFUSALS):
        message = f"not saved: {error}"
    else:
        log.error("labwidget could not store event %s", event_id, exc_info=error)
        message = f"not saved: {type(error).__name__}: {error}"
    return {"kind": "error", "id": event_id, "message": message}


def step_of(event: Event, item: str, steps: int) -> tuple[int, int]:
    """The ``(step, alternative)`` an event on ``item`` names, checked against its step count."""
    if event.get("item") != item:
        raise ValueError(f"the event is for item {event.get('item')!r}, not {item!r}")
    step, alt = event["step"], event.get("alt", 0)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise ValueError(f"there is no step {step!r}")
    if isinstance(alt, bool) or not isinstance(alt, int):
        raise ValueError(f"there is no alternative {alt!r}")
    return step, alt


def _label(store: Store, context: Context, event: Event) -> bool | None:
    """A ``{kind: "label"}`` event, committed as ``LABELS`` says for its ``label`` kind."""
    kind = event.get("label", "rating")
    write = LABELS.get(kind) if isinstance(kind, str) else None
    if write is None:
        raise ValueError(f"unknown label kind {kind!r}")
    return write(store, context, event)


def _step_label(store: Store, context: Context, event: Event) -> bool:
    """A rating, flag, choice, replacement or note at a step of the context's item."""
    kind = event.get("label", "rating")
    step, alt = step_of(event, context["item"], context["steps"])
    if kind == "rating" and event.get("value") is None:
        raise ValueError("a step rating must be -1, 0 or +1, not None")
    return store.record(
        kind,
        item=context["item"],
        step=step,
        alt=alt,
        value=event.get("value"),
        text=event.get("text"),
        meta=_accepted(context["suggestions"], event, step, alt),
        **_timing(event),
    )


def _adjudication(store: Store, context: Context, event: Event) -> bool:
    """An adjudicator's verdict on a disputed step, keeping who said what in its meta."""
    step, alt = step_of(event, context["item"], context["steps"])
    disputes = context.get("disputes")
    dispute = disputes[step] if disputes is not None and step < len(disputes) else None
    if dispute is None or alt != 0:
        raise ValueError(f"step {step} is not in dispute here: nothing to adjudicate")
    return store.record(
        "adjudication",
        item=context["item"],
        step=step,
        value=event.get("value"),
        meta={"labels": dispute},
        **_timing(event),
    )


def _finish(store: Store, context: Context, event: Event) -> bool:
    """Why labeling of the context's item ended, and how long it took."""
    item = context["item"]
    if event.get("item") != item:
        raise ValueError(f"the event is for item {event.get('item')!r}")
    return store.finish(item=item, reason=str(event.get("text")), **_timing(event))


def _undo(store: Store, context: Context, event: Event) -> None:
    """An ``{kind: "undo"}`` event: the step's previous label again, as a new event."""
    step, alt = step_of(event, context["item"], context["steps"])
    kind = event.get("label", "rating")
    if kind == "adjudication":
        # A verdict cannot be cleared (the store holds -1, 0 or +1 only), but it can be replaced.
        raise ValueError("an adjudication is not undone but replaced: press 1, 2 or 3 instead")
    store.undo(item=context["item"], step=step, alt=alt, kind=kind, event_id=str(event["id"]))


def _preference(store: Store, context: Context, event: Event) -> bool:
    """A ``{kind: "preference"}`` event on the context's comparison."""
    comparison = context["comparison"]
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


# The label kinds of a step labeler's ``{kind: "label"}`` events (its ``label`` field).
LABELS: dict[str, Commit] = {
    "rating": _step_label,
    "flag": _step_label,
    "choice": _step_label,
    "replacement": _step_label,
    "note": _step_label,
    "finish": _finish,
    "adjudication": _adjudication,
}
# Each (widget, event kind) a page sends that writes, and the function that commits it.
COMMITS: dict[tuple[str, str], Commit] = {
    ("steps", "label"): _label,
    ("steps", "undo"): _undo,
    ("pair", "preference"): _preference,
}


def _timing(event: Event) -> dict[str, Any]:
    """The event's id and what the page measured: its time spent and its clock."""
    return {
        "event_id": str(event["id"]),
        "duration_ms": _whole(event.get("duration_ms")),
        "client_time": _number(event.get("t_client")),
    }


def _accepted(
    suggestions: Sequence[Any], event: Event, step: int, alt: int
) -> dict[str, Any] | None:
    """For a human rating that confirms a suggestion, the suggestion it confirmed."""
    if not event.get("accepts_suggestion"):
        return None
    suggestion = suggestions[step] if step < len(suggestions) else None
    if suggestion is None or alt != 0 or suggestion["value"] != event.get("value"):
        raise ValueError(f"step {step} has no suggestion of {event.get('value')!r} to accept")
    return {"accepted_suggestion": suggestion}


def _finite(event: Event, field: str) -> float | None:
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
