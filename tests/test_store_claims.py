"""Work assignment: each item to at most k distinct annotators, never twice to one, safely."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

import labwidget as lw


@pytest.fixture
def queue(store: lw.Store) -> list[str]:
    return [store.add_item(f"q{n}", [f"step of q{n}"]) for n in range(6)]


def test_claims_hand_out_the_oldest_items_once_per_annotator(
    store: lw.Store, queue: list[str]
) -> None:
    assert store.claim(2, annotator="ann") == queue[:2]
    assert store.claim(3, annotator="ann") == queue[2:5]
    assert store.claim(9, annotator="ann") == queue[5:]
    assert store.claim(9, annotator="ann") == []


def test_overlap_limits_distinct_annotators_per_item(store: lw.Store, queue: list[str]) -> None:
    assert store.claim(1, annotator="a", overlap=2) == queue[:1]
    assert store.claim(1, annotator="b", overlap=2) == queue[:1]
    assert store.claim(1, annotator="c", overlap=2) == queue[1:2]


def test_a_labeler_counts_towards_the_overlap(store: lw.Store, queue: list[str]) -> None:
    store.record_label(item=queue[0], step=0, value=1, annotator="early")
    assert store.claim(1, annotator="late", overlap=1) == queue[1:2]
    assert queue[0] not in store.claim(9, annotator="early", overlap=5)


def test_an_expired_claim_frees_the_item_for_others(store: lw.Store, queue: list[str]) -> None:
    # The ttl outlasts the second claim on a loaded box (0.3 s did not, once, under CI-like load).
    assert store.claim(1, annotator="laptop", ttl_s=2) == queue[:1]
    assert store.claim(1, annotator="other") == queue[1:2]
    time.sleep(2.2)
    assert store.claim(1, annotator="third") == queue[:1]


def test_release_gives_an_item_back_now(store: lw.Store, queue: list[str]) -> None:
    store.claim(1, annotator="a")
    store.release(queue[0], annotator="a")
    assert store.claim(1, annotator="b") == queue[:1]


def test_claims_by_dataset(store: lw.Store, queue: list[str]) -> None:
    other = store.add_item("elsewhere", ["x"], dataset="other")
    assert store.claim(5, annotator="a", dataset="other") == [other]


def test_bad_arguments_are_refused(store: lw.Store) -> None:
    with pytest.raises(ValueError, match="overlap >= 1"):
        store.claim(1, overlap=0)


def test_concurrent_claimers_never_over_assign(store_url: str) -> None:
    with lw.Store(store_url) as setup:
        items = [setup.add_item(f"q{n}", ["s"]) for n in range(40)]
    overlap = 2
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def claimer(name: str) -> None:
        try:
            with lw.Store(store_url, annotator=name) as store:
                start.wait()
                mine: list[str] = []
                while batch := store.claim(3, overlap=overlap):
                    mine.extend(batch)
                got[name] = mine
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"ann{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    per_item = Counter(item for claimed in got.values() for item in claimed)
    assert set(per_item) == set(items)
    assert set(per_item.values()) == {overlap}
    for claimed in got.values():
        assert len(claimed) == len(set(claimed))


@pytest.mark.parametrize("order", ["uncertainty", "random", "disagreement"])
def test_concurrent_claimers_in_a_model_order_never_over_assign(store_url: str, order: str) -> None:
    with lw.Store(store_url) as setup:
        items = [setup.add_item(f"q{n}", ["s"]) for n in range(40)]
        # The model scored 30 of them; the last 10 come after, oldest first.
        setup.set_priorities(
            [
                {"item": item, "uncertainty": n / 100, "disagreement": -n / 100}
                for n, item in enumerate(items[:30])
            ]
        )
    overlap = 2
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def claimer(name: str) -> None:
        try:
            with lw.Store(store_url, annotator=name) as store:
                start.wait()
                mine: list[str] = []
                while batch := store.claim(3, overlap=overlap, order=order, seed=7):
                    mine.extend(batch)
                got[name] = mine
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"ann{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    per_item = Counter(item for claimed in got.values() for item in claimed)
    assert set(per_item) == set(items)
    assert set(per_item.values()) == {overlap}
    for claimed in got.values():
        assert len(claimed) == len(set(claimed))
