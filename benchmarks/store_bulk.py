"""Store bulk import and streaming: labwidget vs raw sqlite3 / psycopg, measured in one run.

For the same step ratings (1M by default: 100,000 items x 10 steps, event ids like a client's
uuid4 from a fixed seed, values -1/0/+1, four annotators) it prints:

* SQLite: ``store.batch()`` labels/s, raw ``sqlite3`` ``executemany`` labels/s and the ratio
  (goal >= 0.60). Each side writes into its own copy of one file that already holds the items:
  same schema and indexes, same pragmas (WAL, synchronous=FULL, foreign_keys=ON), one
  transaction. Adding the items is timed on its own and left out of both sides. The raw side
  gets its rows ready-made, as stored (timestamps already text), and only its INSERT and
  COMMIT are timed; ours starts from datetimes and keyword arguments, checks every label,
  and is timed from ``with store.batch()`` to the commit.
* PostgreSQL: ``store.batch()`` (COPY through a staging table) labels/s, raw psycopg
  ``COPY label_events FROM STDIN`` labels/s and the ratio, each side in a fresh database cloned
  from one that holds the items; all three databases are dropped afterwards.
* Memory: peak RSS of a separate Python process that opens the SQLite store and streams every
  event through ``store.iter_events()`` (goal <= 300 MB), and its RSS right after
  ``import labwidget``, so the figure can be read net of the interpreter.

Both sides must end with the same rows (checked by hash) or the run stops.

    .venv/bin/python benchmarks/store_bulk.py                            # 1M labels
    .venv/bin/python benchmarks/store_bulk.py --labels 20000 --skip-pg   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import labwidget as lw
from labwidget import cli

ANNOTATORS = ("ann-a", "ann-b", "ann-c", "ann-d")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
SQLITE_GOAL = 0.60
MEMORY_GOAL_MB = 300
RAW_COLUMNS = "event_id, item_id, step, alt, kind, value, annotator, source, created_at"
# How SQLAlchemy stores a DateTime and a missing JSON `meta` on SQLite; raw stores the same.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_RAW_INSERT = f"INSERT INTO label_events ({RAW_COLUMNS}, meta) VALUES ({', '.join('?' * 10)})"
# Every stored column but seq, which numbers rows in insertion order on both sides.
STORED = (
    "event_id, item_id, step, alt, kind, value, annotator, source, confidence, duration_ms, "
    "client_time, created_at, text, score, meta"
)

Label = tuple[str, str, int, int, str, datetime]  # event id, item, step, value, annotator, time


def make_items(n_items: int, n_steps: int) -> Iterator[tuple[str, list[str]]]:
    for i in range(n_items):
        steps = [f"Step {s} of problem {i}: carry on with the arithmetic." for s in range(n_steps)]
        yield f"Problem {i}: what is {i} * 7 + {i % 13}?", steps


def make_labels(item_ids: list[str], n_steps: int, n_labels: int) -> list[Label]:
    """Step ratings in labeling order: item by item, step by step."""
    rng = random.Random(20250101)
    labels = []
    for i in range(n_labels):
        position = i // n_steps
        labels.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                item_ids[position % len(item_ids)],
                i % n_steps,
                rng.choice((-1, 0, 1)),
                ANNOTATORS[position % len(ANNOTATORS)],
                START + timedelta(milliseconds=37 * i),
            )
        )
    return labels


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>9,.0f} labels/s"


def add_items(store: lw.Store, n_items: int, n_steps: int, side: str) -> list[str]:
    started = time.perf_counter()
    with store.batch() as batch:
        ids = [
            batch.add_item(prompt, steps, created_at=START)
            for prompt, steps in make_items(n_items, n_steps)
        ]
    print(
        f"{side:<7} items: {n_items:,} items x {n_steps} steps added in "
        f"{time.perf_counter() - started:.1f} s (before the timed part, on both sides)"
    )
    return ids


def import_through_store(store: lw.Store, labels: list[Label]) -> float:
    started = time.perf_counter()
    with store.batch() as batch:
        for event_id, item, step, value, annotator, created_at in labels:
            batch.record(
                "rating",
                item=item,
                step=step,
                value=value,
                event_id=event_id,
                annotator=annotator,
                created_at=created_at,
            )
    return time.perf_counter() - started


def report(side: str, n: int, ours_s: float, raw_s: float, goal: float | None, note: str) -> None:
    ratio = raw_s / ours_s
    verdict = "" if goal is None else f" (goal >= {goal:.2f}){'' if ratio >= goal else ' MISSED'}"
    print(
        f"{side:<7} ours {rate(n, ours_s)}  raw {rate(n, raw_s)}  ratio {ratio:.2f}{verdict}"
        f"  [{n:,} labels: ours {ours_s:.1f} s, raw {raw_s:.1f} s; raw = {note}]"
    )


def check_same(side: str, n: int, ours: tuple[int, str], raw: tuple[int, str]) -> None:
    if ours != raw or ours[0] != n:
        sys.exit(f"{side}: the two sides stored different rows: ours {ours}, raw {raw}")
    print(f"{side:<7} both sides hold the same {n:,} rows (hash {ours[1][:12]})")


def sqlite_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    with contextlib.closing(sqlite3.connect(path)) as connection:
        for row in connection.execute(f"SELECT {STORED} FROM label_events ORDER BY seq"):
            digest.update(repr(row).encode())
            count += 1
    return count, digest.hexdigest()


def bench_sqlite(args: argparse.Namespace, workdir: Path) -> Path:
    """Time both sides; returns the file ours wrote, for the memory probe."""
    with_items, ours_path, raw_path = workdir / "items.db", workdir / "ours.db", workdir / "raw.db"
    with lw.Store(with_items, annotator="bench") as store:
        item_ids = add_items(store, -(-args.labels // args.steps), args.steps, "sqlite")
    shutil.copyfile(with_items, ours_path)
    shutil.copyfile(with_items, raw_path)
    labels = make_labels(item_ids, args.steps, args.labels)

    rows = [
        (e, item, step, 0, "rating", value, who, "human", at.strftime(SQLITE_DATETIME), "null")
        for e, item, step, value, who, at in labels
    ]
    with contextlib.closing(sqlite3.connect(raw_path, isolation_level=None)) as raw:
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            raw.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(SQLITE_RAW_INSERT, rows)
        raw.execute("COMMIT")
        raw_s = time.perf_counter() - started
    del rows

    with lw.Store(ours_path) as store:
        ours_s = import_through_store(store, labels)
    report("sqlite", args.labels, ours_s, raw_s, SQLITE_GOAL, "sqlite3 executemany")
    check_same("sqlite", args.labels, sqlite_digest(ours_path), sqlite_digest(raw_path))
    raw_path.unlink()
    return ours_path


@contextlib.contextmanager
def pg_database(admin: Any, name: str, template: str | None = None) -> Iterator[None]:
    admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def pg_digest(psycopg: Any, url: str) -> tuple[int, str]:
    fields = STORED.replace("meta", "meta::text")
    with psycopg.connect(url) as connection:
        count, digest = connection.execute(
            f"SELECT count(*), md5(string_agg(concat_ws('|', {fields}), ',' ORDER BY event_id)) "
            "FROM label_events"
        ).fetchone()
    return int(count), str(digest)


def bench_postgres(args: argparse.Namespace) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(args.pg_url)
    tag = uuid.uuid4().hex[:8]
    names = {side: f"labwidget_bench_{tag}_{side}" for side in ("items", "ours", "raw")}
    urls = {s: base.set(database=n).render_as_string(hide_password=False) for s, n in names.items()}

    def plain(url: str) -> str:  # psycopg's own form of a SQLAlchemy URL
        return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    with (
        psycopg.connect(plain(args.pg_url), autocommit=True) as admin,
        pg_database(admin, names["items"]),
    ):
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["db", "upgrade", urls["items"]]) == 0
        with lw.Store(urls["items"], annotator="bench") as store:
            item_ids = add_items(store, -(-args.labels // args.steps), args.steps, "pg")
        labels = make_labels(item_ids, args.steps, args.labels)
        with (
            pg_database(admin, names["ours"], template=names["items"]),
            pg_database(admin, names["raw"], template=names["items"]),
        ):
            with psycopg.connect(plain(urls["raw"])) as raw:
                started = time.perf_counter()
                with raw.cursor().copy(f"COPY label_events ({RAW_COLUMNS}) FROM STDIN") as copy:
                    for e, item, step, value, who, at in labels:
                        copy.write_row((e, item, step, 0, "rating", value, who, "human", at))
                raw.commit()
                raw_s = time.perf_counter() - started
            with lw.Store(urls["ours"]) as store:
                ours_s = import_through_store(store, labels)
            report("pg", args.labels, ours_s, raw_s, None, "psycopg COPY into label_events")
            ours, raw_digest = (
                pg_digest(psycopg, plain(urls["ours"])),
                pg_digest(psycopg, plain(urls["raw"])),
            )
            check_same("pg", args.labels, ours, raw_digest)


def peak_rss_mb() -> tuple[float, float]:
    """This process's peak RSS in MB: ru_maxrss, and /proc's VmHWM (this process image only)."""
    status = Path("/proc/self/status").read_text().splitlines()
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, hwm_kb / 1024


def iterate() -> None:
    """The memory probe, in its own process: stream every event of the store named on stdin."""
    baseline = peak_rss_mb()
    path = sys.stdin.readline().strip()
    if not path:
        return
    started = time.perf_counter()
    count = 0
    with lw.Store(path) as store:
        for _ in store.iter_events():
            count += 1
    seconds = time.perf_counter() - started
    print(json.dumps({"count": count, "s": seconds, "baseline": baseline, "peak": peak_rss_mb()}))


def start_probe() -> subprocess.Popen[str]:
    """Start the memory probe now, while this process is small.

    Linux hands a parent's peak RSS on to its child's ru_maxrss at fork and exec, so a probe
    started after the import would report this process's million labels as its own.
    """
    command = [sys.executable, __file__, "--iterate"]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def bench_memory(probe: subprocess.Popen[str], path: Path, n_labels: int) -> None:
    found = json.loads(probe.communicate(f"{path}\n")[0])
    if found["count"] != n_labels:
        sys.exit(f"iter_events gave {found['count']:,} events, not {n_labels:,}")
    (maxrss, hwm), base_maxrss = found["peak"], found["baseline"][0]
    verdict = "" if max(maxrss, hwm) <= MEMORY_GOAL_MB else " MISSED"
    print(
        f"memory  iter_events over {n_labels:,} labels: peak RSS {maxrss:.0f} MB "
        f"(goal <= {MEMORY_GOAL_MB} MB){verdict}  [VmHWM {hwm:.0f} MB; right after "
        f"`import labwidget` {base_maxrss:.0f} MB; streamed at {rate(n_labels, found['s'])}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=1_000_000, help="step ratings to import")
    parser.add_argument(
        "--steps", type=int, default=10, help="steps per item (items = labels/steps)"
    )
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a server where this role may create and drop databases",
    )
    parser.add_argument("--skip-pg", action="store_true", help="leave PostgreSQL out")
    parser.add_argument("--workdir", type=Path, help="where the SQLite files go (default: /tmp)")
    parser.add_argument("--iterate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.iterate:
        iterate()
        return
    probe = start_probe()
    print(
        f"store_bulk: {args.labels:,} step ratings; labwidget {lw.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="labwidget-bench-", dir=args.workdir))
    try:
        ours_path = bench_sqlite(args, workdir)
        bench_memory(probe, ours_path, args.labels)
    finally:
        probe.kill()
        shutil.rmtree(workdir)
    if not args.skip_pg:
        bench_postgres(args)


if __name__ == "__main__":
    main()
