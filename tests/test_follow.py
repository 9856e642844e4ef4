"""follow(): labels written by another process reach a training loop within a second."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import sqlalchemy as sa

import labwidget as lw
from labwidget.data import follow

N = 5


def write_labels(url: str, item: str, start: Any) -> None:
    """Runs in a spawned process: one rating every 0.2 s, each carrying its send time."""
    with lw.Store(url, annotator="writer") as store:
        start.wait(30)
        for step in range(N):
            time.sleep(0.2)
            store.record_label(item=item, step=step, value=1, meta={"sent": time.time()})


def test_labels_from_another_process_arrive_within_a_second(store_url: str) -> None:
    with lw.Store(store_url, annotator="tester") as store:
        item = store.add_item("q", [f"step {i}" for i in range(N)])
        store.record_label(item=item, step=0, value=-1)  # history: not replayed by default
        store.rate_item(item=item, score=1.0)  # another kind: left out
        spawn = multiprocessing.get_context("spawn")
        start = spawn.Event()
        writer = spawn.Process(target=write_labels, args=(store_url, item, start))
        writer.start()
        try:
            feed = follow(store, poll_s=0.05, idle_s=30)
            start.set()
            got = []
            for event in feed:
                got.append((event, time.time() - event["meta"]["sent"]))
                if len(got) == N:
                    break
        finally:
            writer.join(30)
        assert writer.exitcode == 0
        assert [e["step"] for e, _ in got] == list(range(N))
        assert {e["annotator"] for e, _ in got} == {"writer"}
        assert max(lag for _, lag in got) < 1.0, [lag for _, lag in got]
        seqs = [e["seq"] for e, _ in got]
        assert seqs == sorted(seqs)
        replay = list(follow(store, since=0, idle_s=0.0))
        assert [e["value"] for e in replay] == [-1] + [1] * N
        resumed = list(follow(store, since=seqs[2], idle_s=0.0))
        assert [e["seq"] for e in resumed] == seqs[3:]


def test_postgres_waits_for_a_transaction_that_commits_late(pg_url: str) -> None:
    from labwidget import cli

    assert cli.main(["db", "upgrade", pg_url]) == 0
    with lw.Store(pg_url, annotator="tester") as store:
        item = store.add_item("q", ["a", "b"])
        feed = follow(store, since=0, poll_s=0.05, idle_s=1.5)
        inside, release = threading.Event(), threading.Event()

        def slow() -> None:
            with store.batch() as batch:
                batch.record("rating", item=item, step=0, value=1)
                batch.flush()  # its seq is drawn now, its commit comes later
                inside.set()
                release.wait(10)

        thread = threading.Thread(target=slow)
        thread.start()
        inside.wait(10)
        store.record_label(item=item, step=1, value=-1)  # a higher seq, committed first
        got: list[dict[str, Any]] = []
        waiter = threading.Thread(target=lambda: got.extend(feed))
        waiter.start()
        time.sleep(0.5)
        assert got == []  # step 1 is committed, but step 0 might still land before it
        release.set()
        thread.join(10)
        waiter.join(10)
        assert [(e["step"], e["value"]) for e in got] == [(0, 1), (1, -1)]


def test_postgres_notify_wakes_the_feed_at_once(pg_url: str) -> None:
    from labwidget import cli
    from labwidget.store._watch import CHANNEL

    assert cli.main(["db", "upgrade", pg_url]) == 0
    with lw.Store(pg_url, annotator="tester") as store:
        item = store.add_item("q", ["a"])
        feed = follow(store, poll_s=5.0, idle_s=0.0)
        assert next(feed, None) is None  # idle at once: nothing yet
        feed = follow(store, poll_s=5.0, idle_s=20)
        got: list[float] = []
        reader = threading.Thread(target=lambda: got.extend(time.time() for _ in [next(feed)]))
        reader.start()
        time.sleep(0.3)  # the reader is now waiting on LISTEN, up to 5 s
        store.record_label(item=item, step=0, value=1)
        sent = time.time()
        with store._engine.begin() as connection:
            connection.execute(sa.text(f"NOTIFY {CHANNEL}"))
        reader.join(5)
        assert got
        assert got[0] - sent < 1.0


def test_concurrent_writers_every_event_once_in_order(store_url: str) -> None:
    with lw.Store(store_url, annotator="tester") as store:
        item = store.add_item("q", ["a", "b", "c"])

        def write(who: int) -> None:
            with lw.Store(store_url, annotator=f"w{who}") as own:
                for i in range(50):
                    own.record_label(item=item, step=i % 3, value=1)

        got: list[dict[str, Any]] = []
        reader = threading.Thread(
            target=lambda: got.extend(follow(store, since=0, poll_s=0.005, idle_s=2.0))
        )
        reader.start()
        writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(60)
        reader.join(60)
        every = [e["seq"] for e in follow(store, since=0, idle_s=0.0)]
        assert len(every) == 200
        assert [e["seq"] for e in got] == every
