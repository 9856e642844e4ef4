"""Figures of the dashboard and the report, and the store-wide settings they read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labwidget.store import _settings, _summary
from labwidget.store._core import StoreCore


class Figures(StoreCore):
    """What the store holds, counted by the database; each person's week against the cap."""

    def summary(
        self,
        *,
        since: Any = None,
        until: Any = None,
        dataset: str | None = None,
        timezone: str | None = None,
        week_start: str | None = None,
        weekly_cap_h: float | None = None,
        idle_cap_s: float = _summary.IDLE_CAP_S,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Every figure of the dashboard and the report, as plain dicts and lists.

        Labels per annotator and source (``human``, ``model:…``, ``auto:…``) over time, the
        current labels per dataset (ratings, flags, finish reasons, preferences), each person's
        hours this week against the weekly cap, and the queue (items done, claimed, open). The
        database does the counting. See ``labwidget.store._summary`` for how time is counted.

        Args:
            since: count labels from this instant on: a date (midnight in ``timezone``), a
                datetime (naive: wall time in ``timezone``) or an ISO 8601 string.
            until: count labels before this instant (same forms as ``since``).
            dataset: only this dataset's items and comparisons.
            timezone: an IANA zone for days and weeks; default the store's ``timezone``
                setting, else UTC (the same figures for everyone who opens a shared store).
            week_start: the day weeks start on; default the store's setting, else Monday.
            weekly_cap_h: the cap on each person's weekly hours; default the store's
                ``weekly_cap_h`` setting, else no cap.
            idle_cap_s: the most one event's ``duration_ms`` counts (a break before an action
                would otherwise count as labeling).
            now: the instant whose week is "this week" (default: now).

        Raises:
            ValueError: a bad date, time zone, day, cap or idle cap, or ``since`` >= ``until``.
        """
        with self._read() as connection:
            week = (timezone, week_start, weekly_cap_h, idle_cap_s)
            opts = _summary.options(
                _settings.read(connection), *week, since=since, until=until, dataset=dataset
            )
            return _summary.summarize(connection, opts, _summary.utc(now))

    def update_summary(
        self, previous: dict[str, Any], *, upto_seq: int | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        """``previous`` (from ``summary``) with the labels committed since added in.

        Only the new events are counted, so this costs milliseconds on any store; with nothing
        new, ``previous`` itself comes back. A new week means a full recount.

        On PostgreSQL, events commit out of ``seq`` order: pass ``upto_seq``, the ``seq`` of the
        last event ``follow`` yielded, so that an event still being committed below the newest
        is counted next time rather than skipped (``Dashboard`` does). Pairwise preferences are
        read up to the newest; one committed late is counted by the next full ``summary``.
        """
        with self._read() as connection:
            return _summary.update(connection, previous, _summary.utc(now), upto_seq)

    def cap_status(
        self,
        annotator: str | None = None,
        *,
        timezone: str | None = None,
        week_start: str | None = None,
        weekly_cap_h: float | None = None,
        idle_cap_s: float = _summary.IDLE_CAP_S,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """One person's hours this week against the weekly cap (default: this store's annotator).

        Returns ``{annotator, hours_this_week, cap_h, crossed, week_start, week_end, timezone}``;
        ``crossed`` is True once the hours exceed the cap (never without a cap).

        Raises:
            ValueError: ``annotator`` names no one who has labeled in this store, or a setting
                is bad (as for ``summary``).
        """
        with self._read() as connection:
            week = (timezone, week_start, weekly_cap_h, idle_cap_s)
            opts = _summary.options(_settings.read(connection), *week)
            if annotator is not None and annotator != self.annotator:
                _summary.check_annotator(connection, annotator)
            who = annotator or self.annotator
            return _summary.cap_status(connection, opts, who, _summary.utc(now))

    def settings(self) -> dict[str, Any]:
        """The store's settings (``weekly_cap_h``, ``timezone``, ``week_start``) that are set."""
        with self._read() as connection:
            return _settings.read(connection)

    def set_setting(self, name: str, value: Any) -> Any:
        """Set a store setting for everyone who opens the store (None unsets it); returns it.

        ``weekly_cap_h``: hours above 0; ``timezone``: an IANA zone such as ``Europe/Berlin``;
        ``week_start``: ``monday`` … ``sunday``. On a shared PostgreSQL store only the
        store's owner may change them.

        Raises:
            ValueError: an unknown setting or a bad value, with what it must be.
        """
        _settings.check(name, value)
        with self._transaction() as connection:
            return _settings.write(connection, name, value, by=self.annotator)
