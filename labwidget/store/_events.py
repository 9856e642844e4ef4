"""Building and checking event rows: one place that knows what each label kind must carry."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypedDict

from labwidget.store._errors import LabelError
from labwidget.store.schema import FINISH_REASONS, KINDS, PREFERENCES

RATINGS = (-1, 0, 1)
StepSpec = str | Sequence[str]


class Provenance(TypedDict, total=False):
    """Who made an event, when, and how sure: what every event may carry, label or preference.

    Attributes:
        event_id: the event's id (1 to 64 characters; made when absent). A repeated id is
            stored once, so a resent event is harmless.
        annotator: whose event it is (default: the store's annotator).
        source: ``"human"`` (the default), ``"model:<name>"`` or ``"auto:<method>"``.
        confidence: how sure the annotator was, if they said.
        duration_ms: the time spent on it, whole milliseconds.
        client_time: the page's clock when it was made, ms since 1970 (advisory).
        created_at: when it happened (default now); a naive datetime is UTC.
    """

    event_id: str | None
    annotator: str | None
    source: str
    confidence: float | None
    duration_ms: int | None
    client_time: float | None
    created_at: datetime | None


class Noted(Provenance, total=False):
    """A label event's ``Provenance`` and its ``meta``: any JSON-able facts about it."""

    meta: dict[str, Any] | None


class AtAlternative(Noted, total=False):
    """A step label's ``Noted`` fields and ``alt``, the alternative it is on (default 0)."""

    alt: int


class LabelFields(AtAlternative, total=False):
    """Every field of a label event besides its kind and item (see ``Store.record``).

    Attributes:
        step: the step it is on; None for a label of the whole item (``finish``, ``score``).
        value: a rating, flag, choice, prediction or adjudication value.
        text: a replacement, note or finish reason.
        score: a number: an item's score, or a prediction's probability.
    """

    step: int | None
    value: int | None
    text: str | None
    score: float | None


def check_fields(event: Mapping[str, object], fields: type[Any], method: str) -> None:
    """Refuse a keyword ``fields`` (a TypedDict) does not name, as a signature would.

    >>> check_fields({"colour": 1}, Noted, "record")
    Traceback (most recent call last):
    ...
    TypeError: record() got an unexpected keyword argument 'colour'
    """
    unknown = sorted(event.keys() - fields.__optional_keys__)
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The store's duration_ms column is a 32-bit integer on PostgreSQL (and so on SQLite too).
MAX_DURATION_MS = 2**31 - 1


def stored_time(value: datetime | None) -> datetime:
    """When an event happened, in UTC as the store keeps it; now for None.

    An aware time is converted: SQLite keeps no zone, so 09:00+02:00 stored as written would
    read back as 09:00 UTC. A naive time is taken to be UTC already.

    >>> from datetime import timedelta
    >>> stored_time(datetime(2026, 1, 2, 9, tzinfo=timezone(timedelta(hours=2)))).isoformat()
    '2026-01-02T07:00:00+00:00'
    """
    if value is None:
        return utcnow()
    if not isinstance(value, datetime):
        raise LabelError(f"created_at must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def check_duration(duration_ms: Any) -> None:
    """Refuse a duration the store cannot hold: whole milliseconds from 0 to 2**31 - 1."""
    if duration_ms is not None and (
        not _is_int(duration_ms) or not 0 <= duration_ms <= MAX_DURATION_MS
    ):
        raise LabelError(
            f"duration_ms must be whole milliseconds from 0 to {MAX_DURATION_MS}, "
            f"not {duration_ms!r}"
        )


def iso(value: datetime) -> str:
    """ISO 8601 in UTC; SQLite hands back naive datetimes and everything stored is UTC.

    >>> iso(datetime(2026, 1, 2, 3, 4, 5, 600000))
    '2026-01-02T03:04:05.600000+00:00'
    """
    if value.tzinfo is None:
        # What replace(tzinfo=timezone.utc).isoformat() gives, at a quarter of the cost: a
        # labeled item's current labels are read on every refresh, a datetime each.
        return f"{value.isoformat()}+00:00"
    return value.isoformat()


def content_id(*parts: Any) -> str:
    """A 32-hex-digit hash of JSON-able parts: the same content always gives the same id.

    >>> content_id("1+1?", ["1+1=2"])
    'eaccd2ece6f563991aeabf14c5006d25'
    """
    payload = json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def clean_text(text: str) -> str:
    r"""Model output as text every backend can store: lone surrogates and NUL become U+FFFD.

    A badly decoded generation can hold both; SQLite and the wire cannot encode a lone
    surrogate and PostgreSQL refuses NUL, so they are replaced rather than lost with the item.

    >>> print(ascii(clean_text("ok \ud800 \x00 \U0001f600")))
    'ok \ufffd \ufffd \U0001f600'
    """
    if text.isascii() and "\x00" not in text:
        return text
    repaired = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return repaired.replace("\x00", "\ufffd")


def alternatives_of(step_specs: Sequence[StepSpec]) -> list[list[str]]:
    """Each step position as its list of alternative texts (alternative 0 first), cleaned."""
    positions: list[list[str]] = []
    for position, spec in enumerate(step_specs):
        texts = [spec] if isinstance(spec, str) else list(spec)
        if not texts or any(not isinstance(t, str) for t in texts):
            raise TypeError(f"step {position} must be a string or a non-empty list of strings")
        positions.append([clean_text(t) for t in texts])
    return positions


def item_content_id(prompt: str, positions: list[list[str]]) -> str:
    """An item's id: a hash of its prompt and steps (a step with alternatives hashes as a list)."""
    return content_id(prompt, [texts[0] if len(texts) == 1 else texts for texts in positions])


def check_source(source: str) -> str:
    if source == "human" or (source.startswith(("model:", "auto:")) and len(source) > 6):
        return source
    raise LabelError(
        f"a label source is 'human', 'model:<name>' or 'auto:<method>', not {source!r}"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_event(kind: str, step: Any, value: Any, text: Any, score: Any) -> None:
    """Refuse an event whose fields do not fit its kind, with a message that says why."""
    if kind not in KINDS:
        raise LabelError(f"unknown label kind {kind!r}; one of {', '.join(KINDS)}")
    item_level = kind in ("finish", "score")
    if item_level and step is not None:
        raise LabelError(f"a {kind} label is for the whole item, not a step")
    if not item_level and kind != "note" and not _is_int(step):
        raise LabelError(f"a {kind} label needs a step number, not {step!r}")
    if kind == "rating" and value is not None and (not _is_int(value) or value not in RATINGS):
        raise LabelError(f"a step rating must be -1, 0 or +1, not {value!r}")
    if kind == "flag" and value not in (0, 1):
        raise LabelError(f"a flag is 1 (flagged) or 0 (cleared), not {value!r}")
    if kind == "choice" and (not _is_int(value) or value < 0):
        raise LabelError(f"a choice names an alternative index >= 0, not {value!r}")
    if kind in ("replacement", "note") and (not isinstance(text, str) or not text.strip()):
        raise LabelError(f"a {kind} needs non-empty text")
    if kind == "finish" and text not in FINISH_REASONS:
        raise LabelError(f"a finish reason is one of {', '.join(FINISH_REASONS)}, not {text!r}")
    if kind == "prediction" and (
        value not in (-1, 1) or not _is_number(score) or not 0.0 <= score <= 1.0
    ):
        raise LabelError(
            f"a prediction is a probability (score) in [0, 1] with value -1 or +1, not "
            f"score={score!r}, value={value!r}"
        )
    if kind == "adjudication" and (not _is_int(value) or value not in RATINGS):
        raise LabelError(f"an adjudication settles a step as -1, 0 or +1, not {value!r}")
    if kind == "score" and (
        isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score)
    ):
        raise LabelError(f"a score is a finite number, not {score!r}")


def check_preference(preference: Any, strength: Any) -> None:
    if preference is not None and preference not in PREFERENCES:
        raise LabelError(f"a preference is 'a', 'b' or 'tie', not {preference!r}")
    if strength is not None and (
        isinstance(strength, bool)
        or not isinstance(strength, (int, float))
        or not math.isfinite(strength)
    ):
        raise LabelError(f"a preference strength is a finite number, not {strength!r}")


def new_event_id() -> str:
    return uuid.uuid4().hex
