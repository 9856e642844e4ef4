"""Time windows for the summary: "this week" in a time zone, and dates a person types.

Everything stored is UTC. A week is local: it starts at midnight on its first day in the
store's time zone, and the summary turns that into a UTC instant before any query, so a week
that holds a daylight-saving change is 167 or 169 hours long, as the people in it lived it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from labwidget.store._settings import WEEKDAYS


@dataclass(frozen=True)
class Week:
    """One week: its first instant and the first instant after it (both UTC), and how it was cut."""

    start: datetime
    end: datetime
    timezone: str
    week_start: str


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC.

    >>> local_midnight(date(2026, 3, 30), ZoneInfo("Europe/Berlin")).isoformat()
    '2026-03-29T22:00:00+00:00'
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def week_of(now: datetime, zone_name: str, week_start: str) -> Week:
    """The week holding the instant ``now``, starting at local midnight on ``week_start``.

    >>> w = week_of(datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), "Asia/Tokyo", "monday")
    >>> w.start.isoformat(), w.end.isoformat()
    ('2026-12-06T15:00:00+00:00', '2026-12-13T15:00:00+00:00')
    """
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=(today.weekday() - WEEKDAYS.index(week_start)) % 7)
    return Week(
        local_midnight(first, zone),
        local_midnight(first + timedelta(days=7), zone),
        zone_name,
        week_start,
    )


def instant(value: Any, zone_name: str, field: str) -> datetime | None:
    """A bound a person gave (None, a date, a datetime or an ISO 8601 string) as a UTC instant.

    A date means midnight at its start and a datetime without an offset means wall-clock time,
    both in ``zone_name``.

    >>> instant("2026-11-02", "Europe/Berlin", "since").isoformat()
    '2026-11-01T23:00:00+00:00'
    >>> instant("2026-11-02T09:30:00Z", "Europe/Berlin", "since").isoformat()
    '2026-11-02T09:30:00+00:00'
    """
    if value is None:
        return None
    zone = ZoneInfo(zone_name)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                date.fromisoformat(text)
                if len(text) == 10
                else datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            raise ValueError(
                f"{field} is a date such as 2026-11-02 or a time such as 2026-11-02T09:30 "
                f"(optionally with an offset, +01:00 or Z), not {value!r}"
            ) from None
    if isinstance(value, datetime):
        aware: datetime = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(timezone.utc)
    if isinstance(value, date):
        return local_midnight(value, zone)
    raise TypeError(f"{field} is a date, a datetime or an ISO 8601 string, not {value!r}")
