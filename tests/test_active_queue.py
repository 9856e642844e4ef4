"""store.claim(order=…): the PRM's scores decide what people see next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.store import _batch, _upkeep

# Per item: its step probabilities (None: the PRM never scored it) and whether its final
# answer is right.
ITEMS: dict[str, tuple[list[float] | None, bool]] = {
    "sure": ([0.99, 0.98], True),
    "torn": ([0.9, 0.55], True),  # a step at 0.55: the most uncertain
    "convincing": ([0.95, 0.9], False),  # wrong answer, rated 0.855 overall
    "doubtful": ([0.3, 0.8], False),  # wrong answer, rated 0.24: less convincing
    "unscored": (None, False),
}


def scorer(prompt: str, steps: list[str]) -> list[float]:
    probabilities = ITEMS[prompt][0]
    assert probabilities is not None
    return probabilities


def right(item: dict[str, Any], completion: str) -> bool:
    return ITEMS[item["prompt"]][1]


@pytest.fixture
def scored(store: lw.Store) -> dict[str, str]:
    ids = {
        name: store.add_item(name, ["step a", "step b"], meta={"ground_truth_answer": "7"})
        for name in ITEMS
    }
    wanted = [ids[name] for name, (probabilities, _) in ITEMS.items() if probabilities]
    lw.suggest(store, scorer, name="prm", items=wanted, checker=right, progress=False)
    return ids


def claimed(store: lw.Store, ids: dict[str, str], order: str, annotator: str = "a") -> list[str]:
    """The whole queue in ``order``, as a new annotator sees it (others' claims aside)."""
    names = {item: name for name, item in ids.items()}
    return [names[item] for item in store.claim(9, order=order, annotator=annotator, overlap=99)]


def test_uncertainty_puts_the_step_nearest_half_first(
    store: lw.Store, scored: dict[str, str]
) -> None:
    # Nearest 0.5: torn 0.05, doubtful 0.2, convincing 0.4, sure 0.48; then unscored items.
    assert claimed(store, scored, "uncertainty") == [
        "torn",
        "doubtful",
        "convincing",
        "sure",
        "unscored",
    ]


def test_convincing_wrong_puts_the_best_rated_wrong_answer_first(
    store: lw.Store, scored: dict[str, str]
) -> None:
    queue = {row["item"]: row for row in store.queue(list(scored.values()))}
    assert queue[scored["convincing"]]["convincing_wrong"] == pytest.approx(-0.855)
    assert queue[scored["sure"]]["convincing_wrong"] is None  # its answer is right
    # The rest follow oldest first.
    assert claimed(store, scored, "convincing_wrong") == [
        "convincing",
        "doubtful",
        "sure",
        "torn",
        "unscored",
    ]


def test_the_default_checker_reads_the_final_answer(store: lw.Store) -> None:
    right_answer = store.add_item(
        "q1", ["3 + 4 = 7", "# Answer\n\n7"], meta={"ground_truth_answer": "7"}
    )
    wrong_answer = store.add_item(
        "q2", ["3 + 4 = 8", "# Answer\n\n8"], meta={"ground_truth_answer": "7"}
    )
    lw.suggest(store, lambda p, s: [0.9, 0.9], name="prm", progress=False)
    queue = {
        row["item"]: row["convincing_wrong"] for row in store.queue([right_answer, wrong_answer])
    }
    assert queue == {right_answer: None, wrong_answer: pytest.approx(-0.81)}


def test_disagreement_puts_the_prm_against_the_machines_first(
    store: lw.Store, scored: dict[str, str]
) -> None:
    machine = {"annotator": "auto:mc", "source": "auto:mc"}
    store.record_label(item=scored["sure"], step=1, value=-1, **machine)  # 0.98 vs 0: 0.98
    store.record_label(item=scored["torn"], step=0, value=1, **machine)  # 0.9 vs 1: 0.1
    store.record_label(item=scored["doubtful"], step=0, value=1, **machine)  # 0.3 vs 1: 0.7
    # Not recomputed yet: no item has a disagreement, so the oldest come first.
    assert claimed(store, scored, "disagreement") == list(ITEMS)
    lw.suggest(store, scorer, name="prm", items=[scored["sure"]], progress=False)
    assert claimed(store, scored, "disagreement", annotator="b")[0] == "sure"
    # A re-run recomputes every item it is given: the order lands in full.
    wanted = [scored[name] for name in ("torn", "doubtful")]
    lw.suggest(store, scorer, name="prm", items=wanted, checker=right, progress=False)
    assert claimed(store, scored, "disagreement", annotator="c")[:3] == ["sure", "doubtful", "torn"]


def test_the_order_follows_the_newest_scores(store: lw.Store, scored: dict[str, str]) -> None:
    lw.suggest(
        store, lambda p, s: [0.5, 0.99] if p == "sure" else scorer(p, s), name="prm",
        version="2", items=[scored["sure"]], progress=False,
    )  # fmt: skip
    assert claimed(store, scored, "uncertainty")[0] == "sure"


def test_random_order_is_seeded(store: lw.Store) -> None:
    ids = [store.add_item(f"q{k}", ["s"]) for k in range(30)]
    first = store.claim(30, annotator="a", order="random", seed=1, overlap=3)
    again = store.claim(30, annotator="b", order="random", seed=1, overlap=3)
    other = store.claim(30, annotator="c", order="random", seed=2, overlap=3)
    assert first == again
    assert sorted(first) == sorted(ids)
    assert other != first
    assert sorted(other) == sorted(ids)
    assert first not in (ids, sorted(ids))


def test_machines_do_not_count_towards_the_overlap(store: lw.Store) -> None:
    """Bug: a person's claim(overlap=1) skipped every item autolabel or a model had labeled."""
    ids = [store.add_item(f"q{k}", ["s"]) for k in range(3)]
    store.record_label(item=ids[0], step=0, value=1, annotator="auto:mc", source="auto:mc")
    store.record_label(item=ids[1], step=0, value=1, annotator="model:prm", source="model:prm")
    assert store.claim(1, annotator="auto:bisect", overlap=9) == ids[:1]
    assert store.claim(3, annotator="alice") == ids
    store.record_label(item=ids[1], step=0, value=1, annotator="bob")
    assert store.claim(3, annotator="carol") == []  # alice's claims, and bob's label
    assert {row["item"]: row["people"] for row in store.queue(ids)} == {
        ids[0]: 0,
        ids[1]: 1,
        ids[2]: 0,
    }


def test_people_are_counted_once_per_item(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    with store.batch() as batch:
        for step in (0, 1):
            batch.record("rating", item=item, step=step, value=1, annotator="alice")
            batch.record("rating", item=item, step=step, value=1, annotator="bob")
    store.record_label(item=item, step=0, value=-1, annotator="alice")
    store.record_label(item=item, step=0, value=1, annotator="auto:mc", source="auto:mc")
    assert store.queue([item])[0]["people"] == 2
    assert store.claim(1, annotator="carol", overlap=2) == []
    assert store.claim(1, annotator="carol", overlap=3) == [item]


def test_an_unknown_order_is_refused(store: lw.Store) -> None:
    with pytest.raises(ValueError, match="order is one of oldest, random, uncertainty"):
        store.claim(1, order="loudest")


def test_a_bulk_chunk_that_fails_part_way_leaves_no_row_and_the_upkeep_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller that catches a failed flush and commits the rest keeps the per-label upkeep.

    SQLite only: it alone suspends the queue's triggers for a bulk chunk.
    """
    store = lw.Store(tmp_path / "labels.db")
    item = store.add_item("bulk", ["a", "b", "c"])
    real_insert = _batch._sqlite_insert

    def insert_then_fail(connection: Any, table: Any, columns: Any, rows: Any) -> int:
        real_insert(connection, table, columns, rows)
        raise OSError("disk I/O error")

    with store.batch() as batch:
        for n in range(_upkeep.BULK_ROWS):
            batch.record("rating", item=item, step=n % 3, value=1, annotator=f"p{n}")
        monkeypatch.setattr(_batch, "_sqlite_insert", insert_then_fail)
        with pytest.raises(OSError, match="disk I/O"):
            batch.flush()
        monkeypatch.setattr(_batch, "_sqlite_insert", real_insert)
    # The batch still holds the chunk and writes it again as it closes: every person counted.
    assert store.queue([item])[0]["people"] == _upkeep.BULK_ROWS
    store.record_label(item=item, step=0, value=1, annotator="after")
    assert store.queue([item])[0]["people"] == _upkeep.BULK_ROWS + 1


def _import_labels(store: lw.Store, ids: list[str], *, bulk: bool) -> None:
    """The same 1,200 labels, in one batch (large enough for the bulk path) or one by one."""
    people = ("alice", "bob", "carol", "dave")
    labels = [
        {"item": item, "step": step, "value": 1 - (k + step) % 3, "annotator": who}
        for k, item in enumerate(ids)
        for who in people[: 1 + k % 4]
        for step in range(3)
    ]
    labels += [
        {"item": item, "step": 0, "value": 1, "annotator": "auto:mc", "source": "auto:mc"}
        for item in ids[::2]
    ]
    labels.append(dict(labels[0]))  # a person's label again: still one person
    if bulk:
        with store.batch() as batch:
            for label in labels:
                batch.record("rating", **label)
    else:
        for label in labels:
            store.record("rating", **label)


def test_a_bulk_import_counts_people_as_single_labels_do(store: lw.Store) -> None:
    ids = {
        way: [store.add_item(f"{way} {k}", ["a", "b", "c"], dataset=way) for k in range(160)]
        for way in ("bulk", "single")
    }
    for way in ids:  # someone was there before the import
        store.record_label(item=ids[way][0], step=0, value=1, annotator="dave")
        store.record_label(item=ids[way][1], step=2, value=0, annotator="erin")
    _import_labels(store, ids["bulk"], bulk=True)
    _import_labels(store, ids["single"], bulk=False)
    people = {way: [row["people"] for row in store.queue(ids[way])] for way in ids}
    order = {way: sorted(ids[way]) for way in ids}
    by_item = {way: dict(zip(order[way], people[way], strict=True)) for way in ids}
    assert [by_item["bulk"][i] for i in ids["bulk"]] == [
        by_item["single"][i] for i in ids["single"]
    ]
    # One to four people per item, and dave and erin where no one of those four was.
    assert sum(people["bulk"]) == 160 // 4 * (1 + 2 + 3 + 4) + 2
    # The per-label upkeep is back after the import: a new person is still counted.
    store.record_label(item=ids["bulk"][5], step=1, value=1, annotator="frank")
    assert store.queue([ids["bulk"][5]])[0]["people"] == by_item["bulk"][ids["bulk"][5]] + 1
