"""store.summary(): what was labeled, by whom, how fast, and how much of their week it took.

The figures are plain dicts and lists (JSON as it is), so a script, the dashboard and the HTML
report all read the same numbers. The database aggregates (``_summary_sql``); this module only
arranges a few hundred grouped rows. ``update`` adds what landed since a summary was made, so a
live dashboard never recounts the whole store.

Time on task: each human event's ``duration_ms`` is the time since that person's previous action
(the labeler measures it so, and a pairwise preference too). The first action after a break
would count the whole break, so each event counts at most ``idle_cap_s`` (10 minutes by default).
A finish event counts like any other: from the labeler it holds the time since the last step
label; from a PRM800K import it holds the item's ``total_time`` and the steps hold none, so
either way each second is counted once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from labwidget.store import _summary_sql as q
from labwidget.store._events import iso
from labwidget.store._settings import check
from labwidget.store._window import Week, instant, local_midnight, week_of

IDLE_CAP_S = 600
# A timeline spanning more days than this is drawn per day rather than per hour.
HOURLY_UP_TO_DAYS = 14
MS_PER_HOUR = 3_600_000
AUTOMATIC = ("model:", "auto:")


def _hours(ms: int) -> float:
    return ms / MS_PER_HOUR


def options(
    settings: dict[str, Any],
    timezone_name: str | None,
    week_start: str | None,
    weekly_cap_h: float | None,
    idle_cap_s: float,
    *,
    since: Any = None,
    until: Any = None,
    dataset: str | None = None,
) -> dict[str, Any]:
    """The summary's options, checked: the arguments, else the store's settings, else defaults.

    The week's (``timezone_name`` to ``idle_cap_s``) come first: a week's figures need only them.
    """
    zone = check("timezone", timezone_name or settings.get("timezone") or "UTC")
    first_day = check("week_start", week_start or settings.get("week_start") or "monday")
    cap = check("weekly_cap_h", weekly_cap_h)
    if cap is None:
        cap = settings.get("weekly_cap_h")
    if isinstance(idle_cap_s, bool) or not isinstance(idle_cap_s, (int, float)) or idle_cap_s <= 0:
        raise ValueError(f"idle_cap_s is a number of seconds above 0, not {idle_cap_s!r}")
    start, end = instant(since, zone, "since"), instant(until, zone, "until")
    if start is not None and end is not None and start >= end:
        raise ValueError(f"since ({iso(start)}) must come before until ({iso(end)})")
    if dataset is not None and not isinstance(dataset, str):
        raise TypeError(f"dataset is a dataset's name, not {dataset!r}")
    return {
        "since": None if start is None else iso(start),
        "until": None if end is None else iso(end),
        "dataset": dataset,
        "timezone": zone,
        "week_start": first_day,
        "weekly_cap_h": cap,
        "idle_cap_s": idle_cap_s,
    }


def _filters(opts: dict[str, Any]) -> q.Filters:
    def when(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    cap_ms = round(opts["idle_cap_s"] * 1000)
    return q.Filters(when(opts["since"]), when(opts["until"]), opts["dataset"], cap_ms)


def summarize(connection: sa.Connection, opts: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every figure over the whole window of ``opts``, as plain data."""
    f = _filters(opts)
    seqs = q.last_seqs(connection)
    # Label events are counted from the tallies the database keeps where the options allow,
    # in the same read transaction as ``seqs`` (on SQLite a snapshot: they agree).
    if q.tallied(f, window=True):
        labels = q.tallied_activity(connection, f)
    else:
        labels = q.activity(connection, q.LABELS, f, 0, seqs["labels"])
    rows = [*labels, *q.activity(connection, q.PREFERENCES, f, 0, seqs["preferences"])]
    hours = sorted({row[0] for row in rows})
    span = _parse_hour(hours[-1]) - _parse_hour(hours[0]) if hours else timedelta(0)
    bucket = "hour" if span <= timedelta(days=HOURLY_UP_TO_DAYS) else "day"
    summary: dict[str, Any] = {
        "options": {**opts, "bucket": bucket},
        "generated_at": iso(now),
        "seq": seqs,
        "timeline": [],
        "annotators": [],
        "distribution": [],
    }
    _add_activity(summary, rows)
    if q.tallied(f, window=False):
        counts = q.tallied_distribution(connection, f)
    else:
        counts = q.distribution(connection, q.LABELS, f, 0, seqs["labels"])
    counts.update(q.distribution(connection, q.PREFERENCES, f, 0, seqs["preferences"]))
    _add_distribution(summary, counts)
    week = week_of(now, opts["timezone"], opts["week_start"])
    summary["week"] = _week_section(week, opts)
    _add_week(
        summary,
        _week_ms(
            connection, week, f.idle_cap_ms, seqs, {"labels": 0, "preferences": 0}, tallies=True
        ),
    )
    summary["queue"] = _queue(q.queue(connection, opts["dataset"], now), 0)
    return _finish(summary)


def _queue(counts: dict[str, int], done_before: int) -> dict[str, int]:
    done = done_before + counts["done"]
    return {
        "items": counts["items"],
        "done": done,
        "claimed": counts["claimed"],
        "open": counts["items"] - done - counts["claimed"],
    }


def update(
    connection: sa.Connection, previous: dict[str, Any], now: datetime, upto: int | None
) -> dict[str, Any]:
    """``previous`` with the events committed since it was made added in (up to label ``upto``).

    A new week starts the count afresh, so then everything is recounted.
    """
    opts = {k: v for k, v in previous["options"].items() if k != "bucket"}
    if now >= datetime.fromisoformat(previous["week"]["end"]):
        return summarize(connection, opts, now)
    f = _filters(opts)
    lo = previous["seq"]
    latest = q.last_seqs(connection)
    hi = {
        "labels": latest["labels"] if upto is None else max(upto, lo["labels"]),
        "preferences": latest["preferences"],
    }
    if hi == lo:
        return previous  # nothing new: the very same figures
    # A shallow copy: the helpers below replace what changes and leave ``previous`` whole.
    summary = {**previous, "generated_at": iso(now), "seq": hi}
    _add_activity(
        summary,
        [
            *q.activity(connection, q.LABELS, f, lo["labels"], hi["labels"]),
            *q.activity(connection, q.PREFERENCES, f, lo["preferences"], hi["preferences"]),
        ],
    )
    counts = q.distribution(connection, q.LABELS, f, lo["labels"], hi["labels"])
    for key, n in q.distribution(
        connection, q.PREFERENCES, f, lo["preferences"], hi["preferences"]
    ).items():
        counts[key] = counts.get(key, 0) + n
    _add_distribution(summary, counts)
    week = week_of(now, opts["timezone"], opts["week_start"])
    _add_week(summary, _week_ms(connection, week, f.idle_cap_ms, hi, lo))
    queue = q.queue(connection, opts["dataset"], now, lo["labels"], hi["labels"])
    summary["queue"] = _queue(queue, previous["queue"]["done"])
    return _finish(summary)


def _parse_hour(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}:00:00+00:00")


def _bucket_starts(hours: Iterable[str], bucket: str, zone_name: str) -> dict[str, str]:
    """Each UTC hour's bucket, as the ISO instant it starts: the hour, or its local day."""
    zone = ZoneInfo(zone_name)
    starts: dict[str, str] = {}
    for hour in set(hours):
        at = _parse_hour(hour)
        starts[hour] = iso(
            at if bucket == "hour" else local_midnight(at.astimezone(zone).date(), zone)
        )
    return starts


def _add_activity(summary: dict[str, Any], rows: list[tuple[str, str, str, int, int]]) -> None:
    """Adds grouped activity rows to the timeline and to each annotator's counts and hours.

    Rows already in ``summary`` are replaced, never changed, so an earlier summary that shares
    them stays as it was.
    """
    opts = summary["options"]
    starts = _bucket_starts((row[0] for row in rows), opts["bucket"], opts["timezone"])
    timeline = {(r["start"], r["annotator"], r["source"]): r for r in summary["timeline"]}
    people = {(r["annotator"], r["source"]): r for r in summary["annotators"]}
    for hour, annotator, source, n, ms in rows:
        key = (starts[hour], annotator, source)
        before = timeline.get(key, {"labels": 0})["labels"]
        timeline[key] = {
            "start": starts[hour], "annotator": annotator, "source": source, "labels": before + n,
        }  # fmt: skip
        person = people.get((annotator, source), {"labels": 0, "ms": 0})
        people[(annotator, source)] = {
            "annotator": annotator,
            "source": source,
            "labels": person["labels"] + n,
            "ms": person["ms"] + ms,
            "hours": _hours(person["ms"] + ms),
        }
    summary["timeline"] = sorted(
        timeline.values(), key=lambda r: (r["start"], r["annotator"], r["source"])
    )
    summary["annotators"] = sorted(
        people.values(), key=lambda r: (-r["labels"], r["annotator"], r["source"])
    )


def _add_distribution(
    summary: dict[str, Any], counts: dict[tuple[str, str, str, str], int]
) -> None:
    """Adds (signed) current-label counts per (dataset, source, kind, value) to the summary."""
    rows = {(r["dataset"], r["source"]): copy.deepcopy(r) for r in summary["distribution"]}
    for (dataset, source, kind, value), n in counts.items():
        row = rows.setdefault(
            (dataset, source),
            {
                "dataset": dataset,
                "source": source,
                "ratings": {"-1": 0, "0": 0, "1": 0},
                "flags": 0,
                "finish": {},
                "preferences": {},
            },
        )
        if kind == "rating":
            row["ratings"][value] += n
        elif kind == "flag":
            row["flags"] += n
        else:
            group = row["finish" if kind == "finish" else "preferences"]
            group[value] = group.get(value, 0) + n
            if not group[value]:
                del group[value]
    summary["distribution"] = sorted(rows.values(), key=lambda r: (r["dataset"], r["source"]))


def _week_section(week: Week, opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": iso(week.start),
        "end": iso(week.end),
        "timezone": week.timezone,
        "week_start": week.week_start,
        "cap_h": opts["weekly_cap_h"],
        "idle_cap_s": opts["idle_cap_s"],
        "annotators": [],
    }


def _week_ms(
    connection: sa.Connection,
    week: Week,
    cap_ms: int,
    hi: dict[str, int],
    lo: dict[str, int],
    *,
    tallies: bool = False,
) -> dict[str, int]:
    """Each person's capped milliseconds this week among events in ``(lo, hi]``.

    With ``tallies``, label events are read from the hourly tallies where the week and the cap
    fit them (the whole store up to ``hi``: ``lo`` must be 0).
    """
    total: dict[str, int] = {}
    for spec, name in ((q.LABELS, "labels"), (q.PREFERENCES, "preferences")):
        on_hours = q.on_the_hour(week.start) and q.on_the_hour(week.end)
        if tallies and spec is q.LABELS and cap_ms == q.TALLIED_CAP_MS and on_hours:
            found = q.tallied_hours(connection, week.start, week.end)
        else:
            found = q.hours_between(
                connection, spec, week.start, week.end, cap_ms, lo=lo[name], hi=hi[name]
            )
        for annotator, ms in found.items():
            total[annotator] = total.get(annotator, 0) + ms
    return total


def _add_week(summary: dict[str, Any], ms_by_annotator: dict[str, int]) -> None:
    week = summary["week"] = dict(summary["week"])
    ms = {r["annotator"]: r["ms"] for r in week["annotators"]}
    for annotator, more in ms_by_annotator.items():
        ms[annotator] = ms.get(annotator, 0) + more
    cap = week["cap_h"]
    week["annotators"] = sorted(
        (
            {
                "annotator": annotator,
                "ms": total,
                "hours": _hours(total),
                "crossed": cap is not None and _hours(total) > cap,
            }
            for annotator, total in ms.items()
        ),
        key=lambda r: (-r["ms"], r["annotator"]),
    )


def _finish(summary: dict[str, Any]) -> dict[str, Any]:
    """Totals, derived from the per-annotator rows so that they always agree with them."""
    rows = summary["annotators"]
    human = sum(r["labels"] for r in rows if r["source"] == "human")
    summary["totals"] = {
        "labels": sum(r["labels"] for r in rows),
        "human": human,
        "automatic": sum(r["labels"] for r in rows if r["source"].startswith(AUTOMATIC)),
        "hours": _hours(sum(r["ms"] for r in rows)),
        "annotators": len({r["annotator"] for r in rows if r["source"] == "human"}),
    }
    sources: dict[str, int] = {}
    for r in rows:
        sources[r["source"]] = sources.get(r["source"], 0) + r["labels"]
    summary["sources"] = dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])))
    return summary


def cap_status(
    connection: sa.Connection, opts: dict[str, Any], annotator: str, now: datetime
) -> dict[str, Any]:
    """One person's hours this week against the cap: what a labeler's notice needs, quickly."""
    week = week_of(now, opts["timezone"], opts["week_start"])
    cap_ms = round(opts["idle_cap_s"] * 1000)
    ms = sum(
        q.hours_between(connection, spec, week.start, week.end, cap_ms, annotator=annotator).get(
            annotator, 0
        )
        for spec in (q.LABELS, q.PREFERENCES)
    )
    cap = opts["weekly_cap_h"]
    return {
        "annotator": annotator,
        "hours_this_week": _hours(ms),
        "cap_h": cap,
        "crossed": cap is not None and _hours(ms) > cap,
        "week_start": iso(week.start),
        "week_end": iso(week.end),
        "timezone": week.timezone,
    }


def utc(now: datetime | None) -> datetime:
    """``now`` (or this instant) as an aware UTC datetime."""
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone (e.g. datetime.now(timezone.utc))")
    return now.astimezone(timezone.utc)


def check_annotator(connection: sa.Connection, annotator: str) -> None:
    """Refuse a name that has no label or preference in the store, naming those that do."""
    for spec in (q.LABELS, q.PREFERENCES):
        table = spec.events
        found = connection.execute(
            sa.select(table.c.seq).where(table.c.annotator == annotator).limit(1)
        ).first()
        if found is not None:
            return
    known = sorted(
        {
            name
            for spec in (q.LABELS, q.PREFERENCES)
            for name in connection.execute(sa.select(spec.events.c.annotator).distinct()).scalars()
        }
    )
    shown = ", ".join(known[:10]) + (" …" if len(known) > 10 else "") if known else "none yet"
    raise ValueError(f"no one named {annotator!r} has labeled in this store (annotators: {shown})")
