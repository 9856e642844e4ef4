"""The consensus router: machines label what they agree on; people review only the rest.

Per step, the rollout label (``auto:mc`` or ``auto:bisect``) meets the judge's verdict
(``auto:judge``). Where they agree, and the rollouts are not in the uncertain band, the step
gets an ``auto:consensus`` label: what training should use by default (Qwen's PRM lessons:
consensus filtering keeps a judge's quality with a fraction of the data). Where they disagree,
or the success rate is in the band (a few lucky rollouts), the step goes to a human: it is in
the review queue until someone labels it. Without a judge only the band sends steps to review.

Like Qwen's consensus filter and PRM800K's labelers, the router stops at the first error: the
steps after the first one either side rates −1 are neither labeled nor reviewed (a rollout
cannot recover from an earlier error, so the rollouts rate them all −1 while a judge rates each
step on its own: disagreeing there says nothing). A person's rating settles a step: routing
goes on past a step a person rated correct, so the next dispute comes up for review (and a
re-run of ``autolabel`` adds the consensus labels after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from labwidget.auto._settings import DEFAULT_BAND, Event, Settings
from labwidget.store import Store

ROLLOUT_SOURCES = ("auto:mc", "auto:bisect")
Route = Literal["consensus", "review"] | None


def route(rollout: Event | None, judged: Event | None, band: tuple[float, float]) -> Route:
    """Where a step goes: ``"consensus"``, ``"review"``, or None (nothing to decide on).

    >>> mc = {"value": 1, "meta": {"rate": 0.75}}
    >>> route(mc, {"value": 1}, (0.0, 0.25)), route(mc, {"value": -1}, (0.0, 0.25))
    ('consensus', 'review')
    >>> route({"value": 1, "meta": {"rate": 0.125}}, None, (0.0, 0.25))
    'review'
    """
    if rollout is None or rollout["value"] is None:
        return None
    rate = (rollout["meta"] or {}).get("rate")
    uncertain = rate is not None and band[0] < rate <= band[1]
    if uncertain:
        return "review"
    if judged is None or judged["value"] is None:
        return None
    return "consensus" if judged["value"] == rollout["value"] else "review"


def routes(
    rollouts: Sequence[Event | None],
    judged: Sequence[Event | None],
    band: tuple[float, float],
    people: Sequence[int | None] | None = None,
) -> list[Route]:
    """Where each step of one item goes, up to the first error.

    The first error is the first step a person rated −1, or, among the steps no person rated,
    the first either machine rated −1. A step a person rated goes nowhere.

    >>> mc = [{"value": v, "meta": {}} for v in (1, -1, -1)]
    >>> judge = [{"value": 1}, {"value": 1}, {"value": -1}]
    >>> routes(mc, judge, (0.0, 0.25)), routes(mc, judge, (0.0, 0.25), [None, 1, None])
    (['consensus', 'review', None], ['consensus', None, 'consensus'])
    """
    out: list[Route] = []
    stopped = False
    for step, (rollout, verdict) in enumerate(zip(rollouts, judged, strict=True)):
        person = None if people is None else people[step]
        out.append(None if stopped or person is not None else route(rollout, verdict, band))
        machines = (e["value"] for e in (rollout, verdict) if e is not None)
        stopped = stopped or (person == -1 if person is not None else -1 in machines)
    return out


def people_of(events: Iterable[Event], steps: int) -> list[int | None]:
    """The newest rating a person gave each step (alternative 0) of one item, or None."""
    newest: dict[tuple[int, str], Event] = {}
    for event in events:
        if event["source"] == "human" and event["kind"] == "rating" and event["alt"] == 0:
            newest[(event["step"], event["annotator"])] = event
    ratings: list[int | None] = [None] * steps
    for (step, _), event in sorted(newest.items(), key=lambda found: found[1]["created_at"]):
        if event["value"] is not None and 0 <= step < steps:
            ratings[step] = event["value"]
    return ratings


def consensus_events(
    settings: Settings, item: str, steps: int, events: dict[str, Event]
) -> list[Event]:
    """``auto:consensus`` labels for the steps of one item where rollouts and judge agree."""
    rollouts = [events.get(settings.event_id(item, k, "label")) for k in range(steps)]
    judged = [events.get(settings.judge_id(item, k)) for k in range(steps)]
    people = people_of(events.values(), steps)
    agreed: list[Event] = []
    for step, where_to in enumerate(routes(rollouts, judged, settings.band, people)):
        rollout, verdict = rollouts[step], judged[step]
        if where_to != "consensus" or rollout is None or verdict is None:
            continue
        agreed.append(
            settings.event(
                item,
                step,
                "consensus",
                value=rollout["value"],
                confidence=rollout["confidence"],
                source="auto:consensus",
                meta={
                    "rollouts": rollout["source"],
                    "rate": (rollout["meta"] or {}).get("rate"),
                    "judge": verdict["value"],
                    "band": list(settings.band),
                },
            )
        )
    return agreed


def _machines(events: Iterable[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    """The newest machine rating per (step, source) among one item's events (history order)."""
    current: dict[tuple[int, str], dict[str, Any]] = {}
    for event in events:
        if event["source"].startswith("auto:") and event["kind"] == "rating" and event["alt"] == 0:
            current[(event["step"], event["source"])] = event
    return {key: e for key, e in current.items() if e["value"] is not None}


def _suggestions(
    steps: int, events: list[dict[str, Any]], band: tuple[float, float]
) -> list[dict[str, Any] | None]:
    current = _machines(events)
    people = people_of(events, steps)
    rollouts = [_newest(current, step, ROLLOUT_SOURCES) for step in range(steps)]
    judged = [current.get((step, "auto:judge")) for step in range(steps)]
    out: list[dict[str, Any] | None] = []
    for step, where_to in enumerate(routes(rollouts, judged, band, people)):
        rollout, verdict = rollouts[step], judged[step]
        shown = current.get((step, "auto:consensus")) or rollout or verdict
        if shown is None:
            out.append(None)
            continue
        meta = (rollout or {}).get("meta") or {}
        out.append(
            {
                "value": shown["value"],
                "confidence": shown["confidence"],
                "source": shown["source"],
                "review": where_to == "review",
                "human": people[step] is not None,
                "mc_value": None if rollout is None else rollout["value"],
                "mc_source": None if rollout is None else rollout["source"],
                "mc_rate": meta.get("rate"),
                "mc_n": meta.get("n"),
                "mc_successes": meta.get("successes"),
                "judge_value": None if verdict is None else verdict["value"],
                "rationale": None if verdict is None else (verdict["meta"] or {}).get("rationale"),
            }
        )
    return out


def _newest(
    current: dict[tuple[int, str], dict[str, Any]], step: int, sources: Sequence[str]
) -> dict[str, Any] | None:
    """The newest current label at ``step`` among ``sources`` (mc and bisect may both be run)."""
    found = [current[(step, s)] for s in sources if (step, s) in current]
    return max(found, key=lambda e: e["created_at"], default=None)


def review_suggestions(
    store: Store, item: str, *, band: tuple[float, float] = DEFAULT_BAND
) -> list[dict[str, Any] | None]:
    """Both machine verdicts on each step of an item, side by side, for a person to review.

    One dict per step (None where no machine said anything): ``value``, ``confidence`` and
    ``source`` (what to suggest: the consensus, else the rollouts, else the judge: the shape
    ``StepLabeler(suggestions=…)`` takes), ``review`` (the router sends this step to a human),
    ``human`` (a person has rated it), ``mc_value``, ``mc_source``, ``mc_rate``, ``mc_n``,
    ``mc_successes`` (the rollouts; rate None for a step bisect only implied), and
    ``judge_value`` with its ``rationale``.
    """
    steps = len(store.item(item)["steps"])
    return _suggestions(steps, store.events(item=item, kind="rating"), band)


def review_queue(
    store: Store,
    *,
    dataset: str | None = None,
    band: tuple[float, float] = DEFAULT_BAND,
) -> list[str]:
    """The items with a step the router sends to a person, in the store's order.

    A step goes to review when its rollout label and the judge disagree, or when its rollout
    success rate is in ``band`` (low < rate <= high), up to the first error. A person's rating
    settles a step; rated correct, the router goes on, and a later dispute keeps the item in
    the queue.
    """
    by_item: dict[str, list[dict[str, Any]]] = {}
    for event in store.iter_events(kind="rating"):
        by_item.setdefault(event["item"], []).append(event)
    queue: list[str] = []
    for item in store.items(dataset=dataset):
        events = by_item.get(item["id"])
        if not events:
            continue
        suggestions = _suggestions(len(item["steps"]), events, band)
        if any(s is not None and s["review"] for s in suggestions):
            queue.append(item["id"])
    return queue
