"""CPU time of a bulk import of step ratings with ``store.batch()`` into a fresh SQLite store.

SQLite does its work in the importing process, so its CPU time measures the write path even
when a shared box's load makes wall times useless. Compare trees by running this file from one
tree with ``PYTHONPATH`` set to each (a ``git archive`` of a commit), alternating.

    PYTHONPATH=/tmp/tree .venv/bin/python benchmarks/bulk_cpu.py --labels 200000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

import labwidget as lw

PEOPLE = ("ana", "bo", "chen", "dara")
STEPS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--workdir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    args = parser.parse_args()
    rng = random.Random(5)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    folder = tempfile.TemporaryDirectory(dir=args.workdir)
    with folder, lw.Store(os.path.join(folder.name, "bulk.db"), annotator="bench") as store:
        with store.batch() as batch:
            ids = [
                batch.add_item(f"problem {i}", [f"step {s}" for s in range(STEPS)])
                for i in range(args.labels // STEPS)
            ]
        rows = [
            (
                ids[k // STEPS], k % STEPS, rng.choice((-1, 0, 1)), rng.choice(PEOPLE),
                uuid.UUID(int=rng.getrandbits(128), version=4).hex, start + timedelta(seconds=k),
            )
            for k in range(len(ids) * STEPS)
        ]  # fmt: skip
        cpu, wall = time.process_time(), time.perf_counter()
        with store.batch() as batch:
            for item, step, value, who, event_id, at in rows:
                batch.record(
                    "rating", item=item, step=step, value=value, annotator=who,
                    event_id=event_id, created_at=at,
                )  # fmt: skip
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{len(rows):,} labels: CPU {cpu:.2f} s ({len(rows) / cpu:,.0f} labels per CPU second), "
        f"wall {wall:.1f} s, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
