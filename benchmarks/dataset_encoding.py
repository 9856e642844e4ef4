"""Encoding throughput: labwidget's StepDataset encoder vs TRL 1.13's PRMTrainer.tokenize_row.

Same rows, same tiny in-process BPE tokenizer, same run. Prints rows/s for each and the ratio
(goal >= 2x). Also times reading + encoding every example of a StepDataset from a SQLite store,
and building its index: with TRL's default max_length=1024, which tokenizes every row once to
count the labels truncation cuts, against max_length=None, which only reads (the baseline).

    .venv/bin/python benchmarks/dataset_encoding.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trl.experimental.prm import PRMTrainer

import labwidget as lw
from labwidget.data import StepDataset, encode_steps
from tests.test_data import random_rows, tiny_tokenizer


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    tok = tiny_tokenizer(bos=True)
    rows = random_rows(args.rows, seed=0)
    for row in rows:
        row["completions"] = [c or "x" for c in row["completions"]]
    ours = best_of(lambda: encode_steps(rows, tok))
    trl = best_of(
        lambda: [PRMTrainer.tokenize_row(r, tok, "\n", 1024, None, False, False) for r in rows]
    )
    assert encode_steps(rows[:500], tok) == [
        PRMTrainer.tokenize_row(r, tok, "\n", 1024, None, False, False) for r in rows[:500]
    ]
    print(f"rows: {len(rows)}  steps: {sum(len(r['completions']) for r in rows)}")
    print(f"TRL 1.13 tokenize_row : {len(rows) / trl:10.0f} rows/s")
    print(f"labwidget encode_steps: {len(rows) / ours:10.0f} rows/s  ({trl / ours:.2f}x)")

    with tempfile.TemporaryDirectory() as tmp, lw.Store(Path(tmp) / "b.db") as store:
        n = min(args.rows, 5_000)
        with store.batch() as batch:
            for i, row in enumerate(rows[:n]):
                item = batch.add_item(f"{i} {row['prompt']}", row["completions"])
                for step, label in enumerate(row["labels"]):
                    batch.record("rating", item=item, step=step, value=1 if label else -1)
        reading = best_of(lambda: StepDataset(store, tok, max_length=None))
        counting = best_of(lambda: StepDataset(store, tok))
        ds = StepDataset(store, tok)
        print(
            f"StepDataset index of {len(ds)} examples: {reading:.2f}s reading only "
            f"(max_length=None), {counting:.2f}s counting truncation (max_length=1024): "
            f"{counting / reading:.2f}x"
        )
        start = time.perf_counter()
        for i in range(0, len(ds), 64):
            ds.__getitems__(list(range(i, min(i + 64, len(ds)))))
        read = time.perf_counter() - start
        rate = len(ds) / read
        print(f"StepDataset over SQLite: read+encode {rate:.0f} examples/s (batches of 64)")


if __name__ == "__main__":
    main()
