"""StepDataset's index build and a TRL-stepwise export on 100k items / 1M label events.

The store (built once per backend with ``store.batch()``, then cached: ``--keep`` for SQLite, a
database ``lw_data_scale`` for PostgreSQL): 100,000 items of 6 steps; each rated by a person
step by step up to the first wrong step, then finished (2% of ratings changed later, 1%
undone, 2% of steps flagged), 30% by a second person, 20% by a PRM (``model:prm``, every
step), 15% with the PRM's predictions (not labels: read past), 1% adjudicated. About 1M events.

Each figure comes from a fresh process (so its peak RSS is its own): the wall and CPU time
(this process's: on PostgreSQL the server's work is not in it) of
``StepDataset(store, tok, max_length=None)`` (the index; no tokenizing) and of
``lw.export(store, "x.jsonl", format="trl-stepwise")``, by this tree's code and by the code
before ``Store.labeled_items`` (``labwidget/data.py``, ``formats/_labelings.py`` and
``formats/trl.py`` read with ``git show BASE:…``), on the same store in the same run. Both
must give the same rows: the run checks the exported files are equal byte for byte.

    .venv/bin/python benchmarks/data_scale.py                    # SQLite and PostgreSQL
    .venv/bin/python benchmarks/data_scale.py --items 10000 --skip-pg   # smoke run
"""

from __future__ import annotations

import argparse
import filecmp
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import labwidget as lw

BASE = "86b3343"  # main before the store's feed reads (issue 13 §2, issue 16)
STEPS = 6
PEOPLE = [f"person-{k}" for k in range(6)]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
GOAL_S, GOAL_MB = 5.0, 500.0
TOKENIZER = types.SimpleNamespace(pad_token_id=0, eos_token_id=0)


def build(store: lw.Store, n_items: int) -> int:
    """Write the store; returns the number of label events."""
    rng = random.Random(16)
    events = 0
    with store.batch() as batch:
        ids = [
            batch.add_item(f"problem {i}", [f"step {s} of problem {i}" for s in range(STEPS)])
            for i in range(n_items)
        ]
    with store.batch() as batch:
        for i, item in enumerate(ids):
            people = [PEOPLE[i % 6]] + ([PEOPLE[(i + 1) % 6]] if rng.random() < 0.3 else [])
            for who in people:
                for step in range(STEPS):
                    value = rng.choices((1, 0, -1), weights=(85, 7, 8))[0]
                    batch.record("rating", item=item, step=step, value=value, annotator=who)
                    events += 1
                    if rng.random() < 0.02:
                        batch.record("flag", item=item, step=step, value=1, annotator=who)
                        events += 1
                    roll = rng.random()
                    if roll < 0.03:
                        later = None if roll < 0.01 else -value or 1
                        batch.record("rating", item=item, step=step, value=later, annotator=who)
                        events += 1
                    if value == -1:
                        break
                batch.record("finish", item=item, text="solution", annotator=who)
                events += 1
            machine = {"annotator": "prm", "source": "model:prm"}
            if rng.random() < 0.2:
                for step in range(STEPS):
                    value = rng.choice((1, -1))
                    batch.record("rating", item=item, step=step, value=value, **machine)
                    events += 1
            if rng.random() < 0.15:
                for step in range(STEPS):
                    p = rng.random()
                    batch.record(
                        "prediction", item=item, step=step, value=1 if p >= 0.5 else -1,
                        score=p, **machine,
                    )  # fmt: skip
                    events += 1
            if rng.random() < 0.01:
                batch.record("adjudication", item=item, step=0, value=1, annotator="lead")
                events += 1
    return events


def old_code() -> tuple[Any, Any]:
    """``(stepwise, StepDataset)`` as they were at ``BASE``, read with ``git show``."""

    def load(name: str, path: str, **replace: str) -> types.ModuleType:
        source = subprocess.run(
            ["git", "show", f"{BASE}:{path}"],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        ).stdout  # fmt: skip
        for old, new in replace.items():
            source = source.replace(old, new)
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(source, f"{BASE}:{path}", "exec"), module.__dict__)
        return module

    labelings = load("_old_labelings", "labwidget/formats/_labelings.py")
    imports = {"from labwidget.formats._labelings import": "from _old_labelings import"}
    trl = load("_old_trl", "labwidget/formats/trl.py", **imports)
    imports["from labwidget.formats.trl import"] = "from _old_trl import"
    data = load("_old_data", "labwidget/data.py", **imports)
    assert labelings is not None
    return trl.stepwise, data.StepDataset


def measure(target: str, what: str, code: str, out: Path) -> dict[str, float]:
    """One figure, in this process: seconds and peak RSS (MB)."""
    from labwidget.formats import _io

    store = lw.Store(target)
    if code == "old":
        stepwise, dataset_class = old_code()
        _io.ROWS["trl-stepwise"] = stepwise
    else:
        from labwidget.data import StepDataset as dataset_class
    started, cpu = time.perf_counter(), time.process_time()
    if what == "dataset":
        size = len(dataset_class(store, TOKENIZER, max_length=None))
    else:
        size = lw.export(store, out, format="trl-stepwise")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return {"s": seconds, "cpu": cpu, "peak_mb": peak_mb, "rows": size}


def run_one(target: str, what: str, code: str, out: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", what, code, target, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def pg_target(n_items: int) -> str:
    import sqlalchemy as sa

    name = f"lw_data_scale_{n_items}"
    admin = sa.create_engine(PG + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists is None:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG + name


def prepared(target: str, n_items: int) -> None:
    """Build the store at ``target`` unless a complete one is there."""
    if "://" in target:
        from labwidget import cli

        cli.main(["db", "upgrade", target])
    with lw.Store(target, annotator="bench") as store:
        stats = store.stats()
        if stats["items"] == n_items and stats["label_events"] > 0:
            print(f"  cached: {stats['items']} items, {stats['label_events']} events")
            return
        started = time.perf_counter()
        events = build(store, n_items)
        print(f"  built: {n_items} items, {events} events in {time.perf_counter() - started:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/lw-data-scale"))
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--old-runs", type=int, default=1)
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        what, code, target, out = args.one
        print(json.dumps(measure(target, what, code, Path(out))))
        return
    args.keep.mkdir(parents=True, exist_ok=True)
    targets = {"sqlite": str(args.keep / f"scale-{args.items}.db")}
    if not args.skip_pg:
        targets["postgresql"] = pg_target(args.items)
    for backend, target in targets.items():
        print(f"{backend}:")
        prepared(target, args.items)
        for what in ("dataset", "export"):
            outs = {code: args.keep / f"{backend}-{code}.jsonl" for code in ("new", "old")}
            new = [run_one(target, what, "new", outs["new"]) for _ in range(args.runs)]
            old = [run_one(target, what, "old", outs["old"]) for _ in range(args.old_runs)]
            assert {r["rows"] for r in new} == {r["rows"] for r in old}, (new, old)
            if what == "export":
                assert filecmp.cmp(outs["new"], outs["old"], shallow=False), "exports differ"
            new_s, new_cpu = (statistics.median(r[k] for r in new) for k in ("s", "cpu"))
            old_s, old_cpu = (statistics.median(r[k] for r in old) for k in ("s", "cpu"))
            peak = max(r["peak_mb"] for r in new)
            runs = ", ".join(f"{r['s']:.2f}" for r in new)
            print(
                f"  {what:8} {int(new[0]['rows']):>8} rows: {new_s:6.2f} s wall, {new_cpu:.2f} s "
                f"CPU (runs {runs}), peak RSS {peak:.0f} MB; before: {old_s:.2f} s wall, "
                f"{old_cpu:.2f} s CPU, peak RSS {max(r['peak_mb'] for r in old):.0f} MB; "
                f"{old_s / new_s:.2f}x (wall), {old_cpu / new_cpu:.2f}x (CPU); goal <= "
                f"{GOAL_S:.0f} s, <= {GOAL_MB:.0f} MB: "
                f"{'met' if new_s <= GOAL_S and peak <= GOAL_MB else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
