"""A labeled store like a team's after eight weeks, for benchmarks/dashboard.py.

Items of 10 steps in two datasets. Each item is labeled by one of six people, step by step
until the first wrong step, then finished; some steps are flagged, and about one label in fifty
is changed later (a newer event at the same step), so "current label" is not the same as "every
event". A fifth of the items also get a process reward model's ratings of every step
(``model:prm-7b``), and a fifth an automatic bisection's (``auto:bisect``). People's events carry
the time since their previous action; now and then that includes a break. Everything is written
through ``store.batch()``, the store's own bulk path, with a fixed seed.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import labwidget as lw

PEOPLE = ("ana", "bo", "chen", "dara", "eli", "femi")
STEPS = 10
START = datetime(2026, 10, 5, tzinfo=timezone.utc)  # a Monday
SPAN = timedelta(weeks=8)


def _ratings(rng: random.Random) -> list[int]:
    """A human's ratings of an item's steps: +1 mostly, stopping at the first -1."""
    values: list[int] = []
    for _ in range(STEPS):
        value = rng.choices((1, 0, -1), weights=(86, 7, 7))[0]
        values.append(value)
        if value == -1:
            break
    return values


def build(store: lw.Store, labels: int, *, seed: int = 17) -> dict[str, int]:
    """Add items and about ``labels`` label events to ``store``; returns what was written."""
    rng = random.Random(seed)
    # About 12.7 events per item: a person's ratings, flags and finish, and the machines' ratings.
    n_items = max(1, round(labels / 12.7))
    tick = SPAN / labels
    clock = {person: START for person in PEOPLE}
    written = {"items": n_items, "events": 0}
    with store.batch() as batch:
        ids = [
            batch.add_item(
                f"Problem {i}: what is {i} * 7 + {i % 13}?",
                [f"Step {s} of problem {i}: carry on." for s in range(STEPS)],
                dataset="math" if i % 3 else "code",
                created_at=START,
            )
            for i in range(n_items)
        ]

        def event(
            kind: str, item: str, who: str, source: str, person: str, **fields: object
        ) -> None:
            # A machine labels along with the person who has the item, at that person's time.
            if source == "human":
                gap = tick * len(PEOPLE) * rng.uniform(0.7, 2.1)
                if rng.random() < 0.002:
                    gap += timedelta(minutes=rng.uniform(15, 90))  # a break
                clock[person] += gap
                fields["duration_ms"] = int(gap.total_seconds() * 1000)
            batch.record(
                kind,
                item=item,
                annotator=who,
                source=source,
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                created_at=clock[person],
                **fields,  # type: ignore[arg-type]
            )
            written["events"] += 1

        for item in ids:
            if written["events"] >= labels:
                break
            who = rng.choice(PEOPLE)
            values = _ratings(rng)
            for step, value in enumerate(values):
                event("rating", item, who, "human", who, step=step, value=value)
                if rng.random() < 0.02:
                    event("flag", item, who, "human", who, step=step, value=1)
                if rng.random() < 0.02:
                    event("rating", item, who, "human", who, step=step, value=-value or 1)
            reason = "found_error" if values[-1] == -1 else "solution"
            if rng.random() < 0.03:
                reason = rng.choice(("bad_problem", "give_up"))
            event("finish", item, who, "human", who, text=reason)
            roll = rng.random()
            if roll < 0.4:
                machine = ("model:prm-7b", "prm-7b") if roll < 0.2 else ("auto:bisect", "bisect")
                for step in range(STEPS):
                    value = rng.choices((1, 0, -1), weights=(80, 10, 10))[0]
                    event("rating", item, machine[1], machine[0], who, step=step, value=value)
    return written
