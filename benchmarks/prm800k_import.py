"""PRM800K import speed: ``import_prm800k`` on a large synthetic phase-2 file, ours vs a baseline.

The file (20,000 lines by default, fixed seed) looks like PRM800K's phase 2: each line has a
pre-generated solution of 8 to 20 steps of about 100 characters, a ground-truth solution, and
a labelled prefix that ends at the first -1 (a few alternatives rated there) or runs to the end.
Each run imports the whole file into a fresh SQLite store (or a fresh PostgreSQL database with
``--pg-url``) in its own Python process, timed from the call to its return: wall time, and the
process's CPU time, which other work on a shared machine disturbs less (it leaves out the
database server's own time on PostgreSQL, though).

Since the whole solution is stored, a phase-2 item holds more steps than its labelled prefix;
``--labelled-only`` leaves ``pre_generated_steps`` out of the file, so that both sides store
the same rows and the ratio shows what reading and checking the lines costs.

With ``--baseline PATH`` (another checkout of labwidget, e.g. a ``git worktree`` of an older
commit) the same file is imported by that code too, runs alternating between the two, and the
script prints the median of each and the ratios ours / baseline (above 1: ours is slower).

    .venv/bin/python benchmarks/prm800k_import.py
    git worktree add /tmp/lw-base <commit>
    .venv/bin/python benchmarks/prm800k_import.py --baseline /tmp/lw-base --runs 5
    .venv/bin/python benchmarks/prm800k_import.py --baseline /tmp/lw-base --labelled-only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
WORDS = [
    *("so", "the", "sum", "is", "then", "we", "divide", "both", "sides", "by", "and", "get"),
    *("a", "factor", "of", "square", "root", "therefore", "$x^2 + 3x - 4 = 0$", "which"),
    *("means", "$\\frac{a}{b}$", "an", "integer"),
]
TIMED = """
import json, sys, time
import labwidget as lw
store = lw.Store(sys.argv[2])
start, cpu = time.perf_counter(), time.process_time()
counts = lw.import_prm800k(store, sys.argv[1])
done = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
print(json.dumps({**done, **counts}))
store.close()
"""


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def make_line(rng: random.Random, n: int, *, whole: bool = True) -> dict[str, Any]:
    """One phase-2-like line: a whole pre-generated solution and its labelled prefix."""
    solution = [sentence(rng, 18) + f" (step {s} of {n})" for s in range(rng.randint(8, 20))]
    error_at = rng.randrange(len(solution) + 3)  # past the end: no error, all rated
    steps = []
    for position, text in enumerate(solution[: error_at + 1]):
        if position == error_at:
            rated = [{"text": text, "rating": -1, "flagged": None}]
            rated += [
                {"text": sentence(rng, 15), "rating": rng.choice((-1, 0, 1)), "flagged": False}
                for _ in range(rng.randint(0, 3))
            ]
            steps.append(
                {"completions": rated, "human_completion": None, "chosen_completion": None}
            )
        else:
            rating = rng.choice((0, 1, 1, 1))
            completion = {"text": text, "rating": rating, "flagged": None}
            steps.append(
                {"completions": [completion], "human_completion": None, "chosen_completion": 0}
            )
    question: dict[str, Any] = {
        "problem": f"Problem {n}: " + sentence(rng, 30),
        "ground_truth_solution": sentence(rng, 80),
        "ground_truth_answer": str(rng.randint(1, 1000)),
    }
    if whole:
        question["pre_generated_steps"] = solution
    question["pre_generated_answer"] = str(rng.randint(1, 1000))
    question["pre_generated_verifier_score"] = rng.random()
    return {
        "labeler": str(uuid.UUID(int=rng.getrandbits(128))),
        "timestamp": f"2023-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.{n:06d}",
        "generation": rng.randint(1, 10),
        "is_quality_control_question": False,
        "is_initial_screening_question": False,
        "question": question,
        "label": {
            "steps": steps,
            "total_time": rng.randint(1_000, 900_000),
            "finish_reason": "found_error" if error_at < len(solution) else "solution",
        },
    }


def write_file(path: Path, lines: int, *, whole: bool = True) -> None:
    rng = random.Random(800)
    with path.open("w", encoding="utf-8") as file:
        for n in range(lines):
            file.write(json.dumps(make_line(rng, n, whole=whole)) + "\n")


def fresh_target(args: argparse.Namespace, workdir: Path, run: str) -> tuple[str, Any]:
    """A new store location and a function that removes it."""
    if args.pg_url is None:
        path = workdir / f"{run}.db"
        return str(path), lambda: [p.unlink(missing_ok=True) for p in workdir.glob(f"{run}.db*")]
    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(args.pg_url).set(drivername="postgresql")
    admin = psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True)
    name = f"lw_bench_{run}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    subprocess.run(
        [sys.executable, "-m", "labwidget.cli", "db", "upgrade", url],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )

    def drop() -> None:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()

    return url, drop


def timed_import(tree: Path, source: Path, target: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", TIMED, str(source), target],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20_000, help="lines in the synthetic file")
    parser.add_argument("--runs", type=int, default=3, help="imports per side (median reported)")
    parser.add_argument("--baseline", type=Path, help="another labwidget checkout to compare with")
    parser.add_argument("--pg-url", help="import into fresh PostgreSQL databases on this server")
    parser.add_argument(
        "--labelled-only", action="store_true", help="leave pre_generated_steps out of the file"
    )
    args = parser.parse_args()
    sides = {"ours": HERE}
    if args.baseline is not None:
        sides["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        source = workdir / "phase2_synthetic.jsonl"
        write_file(source, args.lines, whole=not args.labelled_only)
        size_mb = source.stat().st_size / 1e6
        kind = "labelled steps only" if args.labelled_only else "whole solutions"
        print(f"file: {args.lines:,} lines ({kind}), {size_mb:.1f} MB; backend: ", end="")
        print("PostgreSQL" if args.pg_url else "SQLite")
        seconds: dict[str, list[float]] = {side: [] for side in sides}
        cpu: dict[str, list[float]] = {side: [] for side in sides}
        for run in range(args.runs):
            for side, tree in sides.items():
                target, remove = fresh_target(args, workdir, f"{side}{run}")
                try:
                    result = timed_import(tree, source, target)
                finally:
                    remove()
                seconds[side].append(result["seconds"])
                cpu[side].append(result["cpu"])
                print(
                    f"  {side} run {run + 1}: {result['seconds']:.2f} s, cpu {result['cpu']:.2f} s "
                    f"({result['items']:,} items, {result['events']:,} events)"
                )
        wall = {side: statistics.median(times) for side, times in seconds.items()}
        busy = {side: statistics.median(times) for side, times in cpu.items()}
        for side in sides:
            print(
                f"{side}: median {wall[side]:.2f} s ({args.lines / wall[side]:,.0f} lines/s), "
                f"cpu {busy[side]:.2f} s"
            )
        if "baseline" in sides:
            print(
                f"ratio ours / baseline: wall {wall['ours'] / wall['baseline']:.2f}, "
                f"cpu {busy['ours'] / busy['baseline']:.2f}"
            )


if __name__ == "__main__":
    main()
