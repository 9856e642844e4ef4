"""The training feed's reads: the SQL-resolved labelings equal a replay of every event.

``Store.labeled_items`` lets the database pick each labeling's newest events; the reference
here is the algorithm it replaced, kept verbatim: every event, oldest first, folded by
``Labeling.apply``. The store gets undo, re-rating, flags set and cleared, choices among
alternatives, replacements, finishes that cover a prefix, scores, notes, predictions,
adjudications, several annotators and sources, so every kind takes part.
"""

from __future__ import annotations

import random
import types
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import labwidget as lw
from labwidget.data import StepDataset
from labwidget.formats._labelings import Labeling, settle
from labwidget.formats.trl import labeling_rows, stepwise

START = datetime(2026, 11, 2, tzinfo=timezone.utc)
WHO = (("ana", "human"), ("bo", "human"), ("judge", "model:a"), ("judge-b", "model:b"))
WHO += (("mc", "auto:mc"), ("judge-c", "model:a:v2"))
TOKENIZER = types.SimpleNamespace(pad_token_id=0, eos_token_id=0)


def fill(store: lw.Store, n_items: int = 40, seed: int = 3) -> None:
    """Items of 2-5 steps (some with alternatives) and a random history of every kind."""
    rng = random.Random(seed)
    clock = [START]

    def at() -> datetime:
        clock[0] += timedelta(seconds=rng.randint(1, 90))
        return clock[0]

    with store.batch() as batch:
        for i in range(n_items):
            steps: list[Any] = []
            for s in range(rng.randint(2, 5)):
                many = rng.random() < 0.25
                steps.append([f"{i}.{s}.{a}" for a in range(3)] if many else f"{i}.{s}")
            item = batch.add_item(f"p{i}", steps, dataset="a" if i % 3 else "b")
            for who, source in rng.sample(WHO, rng.randint(0, 4)):
                mark = {"annotator": who, "source": source}
                for s, step in enumerate(steps):
                    alts = len(step) if isinstance(step, list) else 1
                    for alt in range(alts):
                        if rng.random() < 0.85:
                            value = rng.choice((1, 1, 0, -1))
                            batch.record(
                                "rating", item=item, step=s, alt=alt, value=value,
                                created_at=at(), **mark,
                            )  # fmt: skip
                        if rng.random() < 0.15:  # re-rated, or undone
                            value = rng.choice((1, -1, None))
                            batch.record(
                                "rating", item=item, step=s, alt=alt, value=value,
                                created_at=at(), **mark,
                            )  # fmt: skip
                        if rng.random() < 0.1:
                            for flagged in (1, 0)[: rng.randint(1, 2)]:
                                batch.record(
                                    "flag", item=item, step=s, alt=alt, value=flagged,
                                    created_at=at(), **mark,
                                )  # fmt: skip
                    if alts > 1 and rng.random() < 0.7:
                        for _ in range(rng.randint(1, 2)):
                            batch.record(
                                "choice", item=item, step=s, value=rng.randrange(alts),
                                created_at=at(), **mark,
                            )  # fmt: skip
                    if rng.random() < 0.08:
                        batch.record(
                            "replacement", item=item, step=s, text=f"mine {i}.{s}",
                            created_at=at(), **mark,
                        )  # fmt: skip
                    if rng.random() < 0.05:
                        batch.record("note", item=item, step=s, text="hm", created_at=at(), **mark)
                    if rng.random() < 0.1:
                        batch.record(
                            "prediction", item=item, step=s, value=1, score=0.7,
                            created_at=at(), **mark,
                        )  # fmt: skip
                if rng.random() < 0.8:
                    cover = rng.choice((None, 1, 2))
                    meta = None if cover is None else {"labeled_steps": cover}
                    reason = rng.choice(("solution", "found_error"))
                    batch.record(
                        "finish", item=item, text=reason, meta=meta, created_at=at(), **mark
                    )
                if rng.random() < 0.2:
                    batch.record("score", item=item, score=rng.random(), created_at=at(), **mark)
            if rng.random() < 0.2:
                for _ in range(rng.randint(1, 2)):
                    batch.record(
                        "adjudication", item=item, step=0, value=rng.choice((1, -1)),
                        annotator="lead", created_at=at(),
                    )  # fmt: skip


def replayed(
    store: lw.Store,
    *,
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
    adjudicated: bool = True,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[Labeling]:
    """The labelings as the code before ``Store.labeled_items`` folded them: every event."""
    items = {item["id"]: item for item in store.items(dataset=dataset)}
    found: dict[str, dict[str, Labeling]] = {}
    verdicts: dict[str, dict[tuple[int, int], int]] = {}
    for event in store.iter_events():
        item = items.get(event["item"])
        if item is not None and event["kind"] == "adjudication":
            verdicts.setdefault(item["id"], {})[(event["step"], event["alt"])] = event["value"]
        if item is None or event["kind"] in ("note", "prediction", "adjudication"):
            continue
        if annotator is not None and event["annotator"] != annotator:
            continue
        family = source is not None and ":" not in source
        if source is not None and not (
            event["source"] == source or (family and event["source"].startswith(f"{source}:"))
        ):
            continue
        created = datetime.fromisoformat(event["created_at"])
        if (since is not None and created < since) or (until is not None and created >= until):
            continue
        per_item = found.setdefault(item["id"], {})
        who = event["annotator"]
        if who not in per_item:
            per_item[who] = Labeling(item=item, annotator=who)
        per_item[who].apply(event)
    for item_id in items:
        for labeling in found.get(item_id, {}).values():
            if adjudicated:
                settle(labeling, verdicts.get(item_id, {}))
            yield labeling


def test_labelings_read_in_sql_equal_a_replay_of_every_event(store: lw.Store) -> None:
    fill(store)
    fields = ("item", "annotator", "ratings", "flags", "choices", "replacements", "finish")
    fields += ("score", "last_at")
    for only in (
        {},
        {"dataset": "b"},
        {"annotator": "ana"},
        {"source": "model"},
        {"source": "model:a"},
        {"adjudicated": False},
    ):
        new = [
            {f: getattr(lab, f) for f in fields}
            for lab in lw.formats._labelings.labelings(store, **only)  # type: ignore[arg-type]
        ]
        old = [{f: getattr(lab, f) for f in fields} for lab in replayed(store, **only)]  # type: ignore[arg-type]
        assert new == old, only
        assert new


@pytest.mark.parametrize("neutral", ["false", "true", "drop"])
def test_the_export_and_the_dataset_give_the_replayed_rows(store: lw.Store, neutral: str) -> None:
    fill(store)
    cut = START + timedelta(hours=6)
    for only in ({}, {"source": "human"}, {"annotator": "bo", "dataset": "a"}):
        old = [row for lab in replayed(store, **only) for row in labeling_rows(lab, neutral)]
        assert list(stepwise(store, neutral=neutral, **only)) == old
        rows = StepDataset(store, TOKENIZER, neutral=neutral, max_length=None, **only).rows()
        assert list(rows) == old
    old = [
        row
        for lab in replayed(store, since=cut, until=cut + timedelta(hours=12))
        for row in labeling_rows(lab, neutral)
    ]
    built = StepDataset(
        store, TOKENIZER, neutral=neutral, max_length=None, since=cut,
        until=cut + timedelta(hours=12),
    )  # fmt: skip
    assert list(built.rows()) == old
    built.encode = lambda rows: list(rows)  # type: ignore[method-assign]
    backwards = list(reversed(range(len(built))))
    assert built.__getitems__(backwards) == old[::-1]  # read back by item, any order


def test_a_family_source_is_the_name_and_every_name_after_its_colon(store: lw.Store) -> None:
    """``source="model"`` reads ``model`` and ``model:*`` in the export and the dataset alike.

    Before, the dataset read every ``model:*`` and the export only the source named exactly
    ``model``, so the same call gave two different sets of rows.
    """
    item = store.add_item("q", ["a", "b"])
    store.record_label(item=item, step=0, value=1, annotator="j", source="model:judge")
    store.record_label(item=item, step=0, value=-1, annotator="k", source="model:other")
    store.record_label(item=item, step=0, value=1, annotator="ana", source="human")
    exported = list(stepwise(store, source="model"))
    assert exported == [
        {"prompt": "q", "completions": ["a"], "labels": [True]},
        {"prompt": "q", "completions": ["a"], "labels": [False]},
    ]
    assert list(StepDataset(store, TOKENIZER, source="model", max_length=None).rows()) == exported
    exact = [{"prompt": "q", "completions": ["a"], "labels": [True]}]
    assert list(stepwise(store, source="model:judge")) == exact
    assert (
        list(StepDataset(store, TOKENIZER, source="model:judge", max_length=None).rows()) == exact
    )
