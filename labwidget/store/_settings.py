"""Store-wide settings: a few named values a team shares, each checked before it is kept.

A setting lives in the store, not in someone's notebook, so everyone who opens the store (the
dashboard, ``labwidget report``, the labeler's cap notice) counts against the same cap, in the
same week.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa

from labwidget.store._events import utcnow
from labwidget.store.schema import settings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def check_cap(value: Any) -> float:
    """A weekly cap in hours: a finite number above 0.

    >>> check_cap("6")
    6.0
    """
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = math.nan
    if isinstance(value, bool) or not math.isfinite(hours) or hours <= 0:
        raise ValueError(
            f"weekly_cap_h is a number of hours above 0 (such as 6), not {value!r}; "
            "to have no cap, unset it (labwidget config STORE weekly_cap_h none)"
        )
    return hours


def check_timezone(value: Any) -> str:
    """An IANA time zone name such as ``Europe/Berlin`` or ``UTC``.

    >>> check_timezone("Asia/Kolkata")
    'Asia/Kolkata'
    """
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        close = sorted(z for z in available_timezones() if str(value).lower() in z.lower())[:3]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"timezone is an IANA time zone name such as Europe/Berlin or UTC, not {value!r}{hint}"
        ) from exc
    return str(value)


def check_week_start(value: Any) -> str:
    """The day a week starts on, in English: ``monday`` … ``sunday``.

    >>> check_week_start("Sunday")
    'sunday'
    """
    day = str(value).strip().lower()
    if day not in WEEKDAYS:
        raise ValueError(f"week_start is one of {', '.join(WEEKDAYS)}, not {value!r}")
    return day


# Each setting a store keeps, with the check its value must pass.
CHECKS: dict[str, Callable[[Any], Any]] = {
    "weekly_cap_h": check_cap,
    "timezone": check_timezone,
    "week_start": check_week_start,
}


def check(name: str, value: Any) -> Any:
    """``value`` as setting ``name`` keeps it (None: unset); ValueError for a bad one.

    >>> check("weekly_cap_h", 6)
    6.0
    """
    if name not in CHECKS:
        raise ValueError(f"there is no setting {name!r}; the settings are {', '.join(CHECKS)}")
    return None if value is None else CHECKS[name](value)


def read(connection: sa.Connection) -> dict[str, Any]:
    """Every setting the store holds, by name, as its check gives it (SQLite reads 6.0 as 6)."""
    rows = connection.execute(sa.select(settings.c.name, settings.c.value)).all()
    return {name: check(name, value) for name, value in rows if name in CHECKS}


def write(connection: sa.Connection, name: str, value: Any, *, by: str) -> Any:
    """Set (or, with ``value=None``, unset) one setting; returns the value as kept."""
    kept = check(name, value)
    connection.execute(sa.delete(settings).where(settings.c.name == name))
    if kept is not None:
        connection.execute(
            sa.insert(settings).values(name=name, value=kept, updated_by=by, updated_at=utcnow())
        )
    return kept
