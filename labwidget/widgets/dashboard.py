"""Dashboard: who labeled what, how fast, human and machine, and each person's week against a cap.

The figures are ``Store.summary()``: the database counts them once, and then the widget follows
the store (``labwidget.follow``) in a background thread and adds only what lands, through
``Store.update_summary``, so a new batch of labels costs the kernel milliseconds however large
the store is. The timeline travels as float32 columns in binary buffers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime
from typing import Any

import traitlets

from labwidget._follow import follow
from labwidget._team import team_figures
from labwidget.store import Store
from labwidget.widgets._base import LabWidget
from labwidget.widgets._buffers import pack_float32

log = logging.getLogger("labwidget")

# After the first event of a batch, wait this long for the rest before counting it.
SETTLE_S = 0.1
# follow() gives up after this much quiet and is started again: the thread sees a close then
# (the counting thread stops at once; this one only waits). On PostgreSQL each start opens a
# new LISTEN connection, so not too often.
FOLLOW_IDLE_S = 30.0
# With no label to wake it, the widget still looks this often for pairwise preferences (which
# follow() does not watch) and for a new week.
QUIET_LOOK_S = 5.0
RETRY_S = 5.0
# Agreement and the review queue read far more than a batch of labels: counted this often at most.
TEAM_EVERY_S = 10.0


def pack_timeline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    r"""The summary's timeline as binary float32 columns and the series they index.

    Bucket starts are hours since 1970 (exact in float32 until the year 3883; a day in a zone
    such as Asia/Kolkata starts on a half hour, which float32 holds exactly too).

    >>> packed = pack_timeline([{"start": "2026-11-02T09:00:00+00:00", "annotator": "ana",
    ...                          "source": "human", "labels": 12}])
    >>> packed["series"], packed["start_h"]["shape"], packed["labels"]["view"]
    ([['ana', 'human']], [1], b'\x00\x00@A')
    """
    series: dict[tuple[str, str], int] = {}
    starts: list[float] = []
    index: list[float] = []
    labels: list[float] = []
    for row in rows:
        key = (row["annotator"], row["source"])
        index.append(float(series.setdefault(key, len(series))))
        starts.append(datetime.fromisoformat(row["start"]).timestamp() / 3600)
        labels.append(float(row["labels"]))
    return {
        "series": [list(key) for key in series],
        "start_h": pack_float32(starts),
        "series_index": pack_float32(index),
        "labels": pack_float32(labels),
    }


class Dashboard(LabWidget):
    """A live view of a store's labeling, drawn from ``Store.summary()``.

    Rates per person, people vs machines, the current labels per dataset, each person's hours
    this week against a cap, the queue (done, claimed, open, and items waiting for review), and
    Cohen's κ between each pair of people as a heatmap (``lw.agreement``; counted again at most
    every 10 s while labels land).

    Every number is also in ``summary`` (and ``store.summary()``) as plain data. Panels are
    focusable and each chart has a table of its numbers under "Numbers".

    Args:
        store: the store to show.
        weekly_cap_h: the cap on each person's weekly labeling hours; default the store's
            ``weekly_cap_h`` setting (``labwidget config STORE weekly_cap_h 6``), else none.
        since: show labels from this instant on (a date, datetime or ISO 8601 string).
        until: show labels before this instant.
        dataset: only this dataset.
        timezone: the IANA zone of days and weeks; default the store's setting, else UTC.
        week_start: the day weeks start on; default the store's setting, else Monday.
        idle_cap_s: the most one action's time counts (see ``Store.summary``).
        live: follow the store and add labels as they land (stops when the widget is closed).
        poll_s: how often, at most, the store is looked at for new labels when following.
    """

    _bundle_name = "dashboard"

    summary = traitlets.Dict(
        help="Store.summary() without its timeline: totals, sources, annotators, the current "
        "label distribution, this week's hours against the cap, and the queue; with the team's "
        "figures (labwidget._team): agreement (alpha, kappa per pair) and review (items left)."
    ).tag(sync=True)
    timeline = traitlets.Dict(
        help="Labels per bucket and (annotator, source): {series, start_h, series_index, "
        "labels}, the last three as float32 binary buffers (pack_timeline)."
    ).tag(sync=True)
    live = traitlets.Bool(False, help="Whether new labels are added as they land.").tag(sync=True)
    error = traitlets.Unicode(
        "", help="Why the figures could not be brought up to date, or '' when they are."
    ).tag(sync=True)

    def __init__(
        self,
        store: Store,
        *,
        weekly_cap_h: float | None = None,
        since: Any = None,
        until: Any = None,
        dataset: str | None = None,
        timezone: str | None = None,
        week_start: str | None = None,
        idle_cap_s: float = 600,
        live: bool = True,
        poll_s: float = 0.5,
    ) -> None:
        self._stop = threading.Event()
        self._landed = threading.Event()
        self._threads: list[threading.Thread] = []
        if poll_s <= 0:
            raise ValueError(f"poll_s is a number of seconds above 0, not {poll_s!r}")
        figures = store.summary(
            since=since,
            until=until,
            dataset=dataset,
            timezone=timezone,
            week_start=week_start,
            weekly_cap_h=weekly_cap_h,
            idle_cap_s=idle_cap_s,
        )
        self._figures = figures
        self._refresh_lock = threading.Lock()
        self._latest = figures["seq"]["labels"]
        self._poll_s = poll_s
        self._dataset = dataset
        # Live, the team's figures are counted by the thread, after the first paint.
        self._team_at = -math.inf
        self._team_stale = live
        self._team: dict[str, Any] = {} if live else self._count_team(store, figures)
        super().__init__(store=store, **self._as_traits(figures), live=live)
        if live:
            self._start()

    def _count_team(self, store: Store, figures: dict[str, Any]) -> dict[str, Any]:
        self._team_at = time.monotonic()
        self._team_stale = False
        return team_figures(store, dataset=self._dataset, sources=figures["sources"])

    def _as_traits(self, figures: dict[str, Any]) -> dict[str, Any]:
        return {
            "summary": {**{k: v for k, v in figures.items() if k != "timeline"}, **self._team},
            "timeline": pack_timeline(figures["timeline"]),
        }

    def refresh(self, *, upto_seq: int | None = None) -> dict[str, Any]:
        """Add the labels committed since the last look (up to ``upto_seq``); returns the figures.

        The live thread calls this for each batch of labels; call it yourself with
        ``live=False``. Agreement and the review queue are counted again when labels have
        landed since, at most every ``TEAM_EVERY_S`` seconds.
        """
        with self._refresh_lock:
            figures = self.store.update_summary(self._figures, upto_seq=upto_seq)
            self._team_stale |= figures is not self._figures
            due = self._team_stale and time.monotonic() - self._team_at >= TEAM_EVERY_S
            if figures is self._figures and not due:  # nothing new
                return figures
            self._figures = figures
            if due:
                self._team = self._count_team(self.store, figures)
            traits = self._as_traits(figures)
            with self.hold_sync():  # one update message
                self.summary, self.timeline = traits["summary"], traits["timeline"]
                self.error = ""
        return figures

    @traitlets.observe("comm")
    def _on_comm(self, change: dict[str, Any]) -> None:
        """Stops following the store once the widget is closed (``close()`` drops its comm).

        Nothing is counted after that; the thread waiting on the store ends when it next hears
        from it (at most ``FOLLOW_IDLE_S`` later), without holding up the kernel meanwhile.
        """
        if change["new"] is not None:
            return
        self._stop.set()
        self._landed.set()
        for thread in self._threads:
            if thread.name.endswith("count") and thread is not threading.current_thread():
                # A count under way finishes first; one stuck on an unreachable database
                # holds the close up for RETRY_S at most (it ends on its own later).
                thread.join(timeout=RETRY_S)
        self.live = False

    # The live view: one thread follows the store, another counts what it saw in batches. -----

    def _start(self) -> None:
        for target, name in ((self._follow, "follow"), (self._count, "count")):
            thread = threading.Thread(
                target=target, name=f"labwidget-dashboard-{name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _follow(self) -> None:
        """Notes the newest label event committed; follow() waits on the store in between."""
        while not self._stop.is_set():
            try:
                for event in follow(
                    self.store,
                    kind=None,
                    since=self._latest,
                    poll_s=self._poll_s,
                    idle_s=FOLLOW_IDLE_S,
                ):
                    self._latest = event["seq"]
                    self._landed.set()
                    if self._stop.is_set():
                        return
            except Exception as exc:  # the store is away: say so, and try again
                self._report(exc)
                self._stop.wait(RETRY_S)

    def _count(self) -> None:
        """Adds each batch the follower saw to the figures, and looks now and then for the rest."""
        first = True  # the first look counts the team's figures, right after the first paint
        while not self._stop.is_set():
            landed = False if first else self._landed.wait(QUIET_LOOK_S)
            first = False
            if self._stop.is_set():
                return
            if landed:
                # The rest of a batch lands within moments of its first event.
                self._stop.wait(SETTLE_S)
                self._landed.clear()
            try:
                self.refresh(upto_seq=self._latest)
            except Exception as exc:
                self._report(exc)
                self._stop.wait(RETRY_S)

    def _report(self, exc: Exception) -> None:
        log.warning("labwidget's dashboard could not update: %s", exc)
        self.error = f"not up to date: {type(exc).__name__}: {exc} (trying again)"
