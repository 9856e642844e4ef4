"""Soak: label in a real JupyterLab while the kernel or the whole server is SIGKILLed, many times.

Each cycle (``benchmarks/_soak.py``, shared with ``tests/browser/test_soak.py``) runs the
notebook's cell, which shows a ``StepLabeler`` of 200 steps on one embedded SQLite store, waits
for one label's ack, presses ``1``/``2``/``3`` back to back (a random count, from a quarter of
``--keys`` to all of them), then SIGKILLs the kernel or the server with its kernel while those
labels are in flight, and presses ``--after`` more keys. After a kernel kill the page is left
alone for ``--linger-ms`` (by default past the widget's 12 s of resends) before JupyterLab's
dialog is dismissed; the server restarts the kernel and the cell is run again. After a server
kill a new server is started and the notebook reopened in the same page. Cycles take every
(route, kill) pair in turn: labels committed by the server extension (*direct*) or through the
kernel. A last round labels ``--last`` keys with nothing killed.

An event counts as *acked* when an ack for its id reached the page (the page shows *saved*
only then). At the end plain ``sqlite3`` reads the store. It prints cycles, labels acked,
acked-but-missing, duplicates and the time, per route too, and how long each kind of kill
took to recover from (kill → a label acked again, not counting the linger). Any acked label
missing, stored twice, stored with another step or value, or stored though never sent is
printed with its frames, and the script exits 1; so does a label of the last round that was
not acked, or any page error.

There is no baseline: this measures correctness under faults, not speed.

    .venv/bin/python -m benchmarks.soak                 # 30 cycles, from the repository root
    .venv/bin/python -m benchmarks.soak --cycles 4      # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks._jupyter import describe_machine
from benchmarks._soak import ROUTES, Outcome, plan, soak
from tests.browser.jupyterlab_driver import chromium


def report(outcome: Outcome, whole: float) -> list[str]:
    """Prints the figures, and the evidence for anything lost, doubled, changed or unknown.

    Returns what failed: any of those, a label of the last round not acked, a page error
    other than the known one.
    """
    events = outcome.events.values()
    acked = outcome.acked()
    last = [event for event in events if event.cycle == outcome.cycles]
    print(f"\ncycles                                   {outcome.cycles}")
    print(f"labels acked                             {len(acked):,}")
    print(f"acked but missing from the store         {len(outcome.lost)}")
    print(f"duplicates (an event id stored twice)    {len(outcome.doubled)}")
    print(f"stored with another step or value        {len(outcome.changed)}")
    print(f"stored, never sent by the page           {len(outcome.unknown)}")
    print(f"time                                     {outcome.seconds:.0f} s ({whole:.0f} s all)")
    last_acked = sum(event.acked is not None for event in last)
    print(f"last round (no kill), acked of sent      {last_acked} of {len(last)}")
    print("\nper route  sent  acked  missing  not acked  not acked but stored")
    for route in ROUTES:
        sent = [e for e in events if route in e.routes]
        on_route = outcome.acked(route)
        unacked = [
            i for i, e in outcome.events.items() if e.acked is None and e.routes[-1] == route
        ]
        print(
            f"{route:<9} {len(sent):>5}  {len(on_route):>5}  "
            f"{sum(i in outcome.lost for i in on_route):>7}  {len(unacked):>9}  "
            f"{sum(i in outcome.stored for i in unacked):>20}"
        )
    for kill, seconds in outcome.recoveries.items():
        if seconds:
            print(
                f"{kill} kill -> a label acked again: median {statistics.median(seconds):.1f} s, "
                f"max {max(seconds):.1f} s ({len(seconds)} kills)"
            )
    replies = Counter(message for event in events for message in event.errors)
    print(f"labels answered with an error (shown not saved): {dict(replies) or 'none'}")
    print(f"page errors: {dict(Counter(outcome.page_errors)) or 'none'}")
    for name, ids in (
        ("ACKED BUT MISSING", outcome.lost),
        ("STORED TWICE", outcome.doubled),
        ("STORED WITH ANOTHER STEP OR VALUE", outcome.changed),
    ):
        if ids:
            print(f"\n{name}:\n{outcome.evidence(ids)}")
    if outcome.unknown:
        print(f"\nSTORED, NEVER SENT: {outcome.unknown}")
    failed = {
        "acked but missing": outcome.lost,
        "stored twice": outcome.doubled,
        "stored with another step or value": outcome.changed,
        "stored, never sent": outcome.unknown,
        "a label of the last round not acked": [e for e in last if e.acked is None],
        "page errors": outcome.page_errors,
    }
    return [name for name, found in failed.items() if found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=30, help="kills, kernel and server in turn")
    parser.add_argument("--keys", type=int, default=160, help="most keys before a kill")
    parser.add_argument("--after", type=int, default=10, help="keys pressed after each kill")
    parser.add_argument("--last", type=int, default=50, help="keys in the last round, no kill")
    parser.add_argument(
        "--linger-ms", type=int, default=13_000, help="page left alone after a kernel kill"
    )
    parser.add_argument("--seed", type=int, default=0, help="picks the key counts and keys")
    parser.add_argument(
        "--dir", type=Path, help="keep the servers' folders and the store here (default: removed)"
    )
    args = parser.parse_args()
    print(describe_machine())
    fewest = max(1, args.keys // 4)
    print(
        f"{args.cycles} cycles; {fewest} to {args.keys} keys before each kill, {args.after} after;"
        f" {args.linger_ms} ms left alone after a kernel kill; {args.last} keys in the last round"
    )
    cycles = plan(
        args.cycles,
        before=(fewest, args.keys),
        after=args.after,
        linger_ms=args.linger_ms,
        seed=args.seed,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labwidget-soak-") as tmp, chromium() as browser:
        base = args.dir or Path(tmp)
        with soak(browser, base, seed=args.seed) as runner:
            outcome = runner.run(
                cycles, last=args.last, report=lambda line: print(line, flush=True)
            )
    failed = report(outcome, time.monotonic() - started)
    if failed:
        print(f"\nFAILED: {'; '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
