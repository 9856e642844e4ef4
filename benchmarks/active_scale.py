"""Claims in every order and ``lw.agreement`` on a team-sized store: 100k items, 1M labels.

The store (built once per backend with ``store.batch()``): 100,000 items of 4 steps; 1,000,000
label events:

* people: 60,000 items rated by one of six annotators (240,000 ratings), 20,000 of them by a
  second one too (80,000);
* machines: ``auto:mc`` ratings on every item (400,000);
* a PRM: ``model:prm`` predictions on 70,000 items (280,000), and their queue priorities.

Then, for each order, ``store.claim(20, order=…)`` by a new annotator, several times (each
claim holds its items, so later claims skip them, as on a team), and ``lw.agreement(store)``.
The baseline, in the same run: the plain claim (``order="oldest"``), and the claim as it was
before the work queue (``labwidget/store/_claims.py`` of ``BEFORE_QUEUE``, main just before the
active loop was merged, read with ``git show``), on the same store.

    .venv/bin/python benchmarks/active_scale.py                    # SQLite and PostgreSQL
    .venv/bin/python benchmarks/active_scale.py --items 10000 --skip-pg   # smoke run
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
import types
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import labwidget as lw
from labwidget import cli

PEOPLE = [f"person-{k}" for k in range(6)]
STEPS = 4
ORDERS = ("oldest", "random", "uncertainty", "convincing_wrong", "disagreement")
CLAIM_GOAL_MS = 50.0
AGREEMENT_GOAL_S = 2.0
# main before the active loop's merge (296fb2c): its claim scans items and their labels. Not
# ``main`` itself: main has had the work queue since then, so it measured the queue against itself.
BEFORE_QUEUE = "ef95124"


def build(store: lw.Store, n_items: int) -> None:
    rng = random.Random(15)
    started = time.perf_counter()
    with store.batch() as batch:
        ids = [
            batch.add_item(f"problem {i}", [f"step {s} of {i}" for s in range(STEPS)])
            for i in range(n_items)
        ]
    labeled = int(n_items * 0.6)
    twice = int(n_items * 0.2)
    scored = int(n_items * 0.7)
    with store.batch() as batch:
        for i, item in enumerate(ids):
            people = [PEOPLE[i % 6]] if i < labeled else []
            if i < twice:
                people.append(PEOPLE[(i + 1) % 6])
            for step in range(STEPS):
                truth = 1 if rng.random() < 0.8 else -1
                for who in people:
                    value = truth if rng.random() < 0.9 else -truth
                    batch.record("rating", item=item, step=step, value=value, annotator=who)
                batch.record(
                    "rating", item=item, step=step, value=truth, annotator="auto:mc",
                    source="auto:mc",
                )  # fmt: skip
                if i < scored:
                    p = rng.random()
                    batch.record(
                        "prediction", item=item, step=step, value=1 if p >= 0.5 else -1, score=p,
                        confidence=max(p, 1 - p), annotator="model:prm", source="model:prm",
                    )  # fmt: skip
    store.set_priorities(
        [
            {
                "item": item,
                "uncertainty": rng.random() / 2,
                "convincing_wrong": -rng.random() if rng.random() < 0.3 else None,
                "disagreement": -rng.random(),
                "scored_by": "model:prm",
            }
            for item in ids[:scored]
        ]
    )
    print(f"  built in {time.perf_counter() - started:.0f} s: {store.stats()}")


def main_claim() -> Callable[..., list[str]] | None:
    """The claim as it was before the work queue, or None without git."""
    path = f"{BEFORE_QUEUE}:labwidget/store/_claims.py"
    try:
        source = subprocess.run(
            ["git", "show", path],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("main_claims")
    exec(compile(source, path, "exec"), module.__dict__)
    claim: Callable[..., list[str]] = module.claim
    return claim


def median_ms(run: Callable[[int], Any], times: int) -> float:
    found = []
    for k in range(times):
        started = time.perf_counter()
        run(k)
        found.append((time.perf_counter() - started) * 1000)
    return statistics.median(found)


def measure(url: str, n_items: int, times: int) -> None:
    print(f"  load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    with lw.Store(url, annotator="builder") as store:
        build(store, n_items)
        plain = None
        for order in ORDERS:
            ms = median_ms(lambda k, o=order: store.claim(20, annotator=f"{o}-{k}", order=o), times)
            plain = plain or ms
            goal = "ok" if ms <= CLAIM_GOAL_MS else "OVER"
            print(f"  claim(20, order={order!r}): {ms:.1f} ms ({ms / plain:.2f} x plain; {goal})")
        old = main_claim()
        if old is not None:
            engine = sa.create_engine(store.url)

            def before(k: int) -> None:
                with engine.begin() as connection:
                    old(
                        connection, 20, annotator=f"main-{k}", overlap=1, ttl_s=3600.0, dataset=None
                    )

            ms = median_ms(before, max(3, times // 2))
            print(
                f"  claim(20) before the queue ({BEFORE_QUEUE}): {ms:.1f} ms ({ms / plain:.1f} x)"
            )
            engine.dispose()
        cpu = time.process_time()
        seconds = median_ms(lambda k: lw.agreement(store), 3) / 1000
        cpu = (time.process_time() - cpu) / 3
        goal = "ok" if seconds <= AGREEMENT_GOAL_S else "OVER"
        print(f"  lw.agreement: {seconds:.2f} s ({goal}); this process's CPU {cpu:.2f} s a run")
        print(lw.agreement(store).alpha)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=7, help="claims per order (median)")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite ({args.items} items)")
            measure(str(Path(folder) / "scale.db"), args.items, args.times)
    if args.skip_pg:
        return
    admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"labwidget_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        assert cli.main(["db", "upgrade", url]) == 0
        print(f"PostgreSQL ({args.items} items)")
        measure(url, args.items, args.times)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
