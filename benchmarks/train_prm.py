"""lw.train_prm against TRL 1.13's PRMTrainer: same data, model, seed and steps, same run.

Both train a tiny Qwen2 token classifier (2 labels, no dropout, the same initial weights) on the
same store: ours through ``lw.train_prm`` (``StepDataset`` reading the store as it trains), TRL's
through ``PRMTrainer`` on ``lw.to_dataset(store, format="trl-stepwise")`` (its ``map`` tokenizes
first). Both are ``transformers.Trainer`` with the same seed, so they draw the same batches.
Prints, per run and as medians over ``--repeats`` runs (alternating which goes first):

- samples/s of the training loop (the Trainer's ``train_samples_per_second``) and the ratio
  ours / TRL (goal >= 1.0), and the end-to-end time (dataset building included);
- the largest absolute difference between the two loss curves (logged every step);
- the time ``lw.evaluate_prm`` takes over a store of about ``--eval-steps`` labelled steps.

    .venv/bin/python benchmarks/train_prm.py [--items 1500] [--steps 60] [--repeats 3] [--workers 0]
        [--width 32]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import transformers
from trl.experimental.prm import PRMConfig, PRMTrainer

import labwidget as lw
from tests import prm_support

transformers.logging.set_verbosity_error()


WORKERS = 0  # DataLoader workers for both trainers (--workers)
WIDTH = 32  # the model's hidden size (--width)


def settings(out: Path, steps: int, batch: int) -> dict[str, Any]:
    return {
        "dataloader_num_workers": WORKERS,
        "output_dir": str(out),
        "max_steps": steps,
        "per_device_train_batch_size": batch,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "seed": 0,
        "report_to": "none",
        "save_strategy": "no",
        "disable_tqdm": True,
        "use_cpu": True,
    }


def model(tok: Any, weights: dict[str, torch.Tensor] | None = None) -> Any:
    """The tiny PRM both trainers train, with no dropout; ``weights`` makes the copies equal."""
    built = transformers.AutoModelForTokenClassification.from_config(
        prm_support.config(
            tok,
            num_labels=2,
            classifier_dropout=0.0,
            attention_dropout=0.0,
            hidden_size=WIDTH,
            intermediate_size=2 * WIDTH,
        )
    )
    if weights is not None:
        built.load_state_dict(weights)
    return built


def ours(
    store: lw.Store, tok: Any, weights: Any, out: Path, steps: int, batch: int
) -> dict[str, Any]:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the Trainer prints every step's log
        trainer = lw.train_prm(
            model(tok, weights),
            tok,
            store,
            args=transformers.TrainingArguments(**settings(out, steps, batch)),
        )
    return result(trainer, time.perf_counter() - started)


def trl(
    store: lw.Store, tok: Any, weights: Any, out: Path, steps: int, batch: int
) -> dict[str, Any]:
    started = time.perf_counter()
    rows = lw.to_dataset(store, format="trl-stepwise")
    config = PRMConfig(**settings(out, steps, batch), bf16=False, gradient_checkpointing=False)
    trainer = PRMTrainer(model(tok, weights), args=config, train_dataset=rows, processing_class=tok)
    with contextlib.redirect_stdout(io.StringIO()):
        trainer.train()
    return result(trainer, time.perf_counter() - started)


def result(trainer: Any, seconds: float) -> dict[str, Any]:
    history = trainer.state.log_history
    return {
        "samples_per_s": history[-1]["train_samples_per_second"],
        "seconds": seconds,
        "losses": [entry["loss"] for entry in history if "loss" in entry],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eval-steps", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers, both trainers")
    parser.add_argument("--width", type=int, default=32, help="the model's hidden size")
    args = parser.parse_args()
    global WORKERS, WIDTH
    WORKERS, WIDTH = args.workers, args.width
    torch.set_num_threads(1)
    tok = prm_support.tokenizer()
    torch.manual_seed(0)
    weights = model(tok).state_dict()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, 1 torch thread")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        store = lw.Store(Path(tmp) / "train.db", annotator="rule")
        prm_support.fill(store, n=args.items)
        rows = sum(1 for _ in lw.formats.stepwise(store))
        print(
            f"data: {args.items} items, {rows} rows; {args.steps} steps x batch {args.batch}; "
            f"{args.workers} DataLoader workers; hidden size {args.width}"
        )
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "trl": []}
        for repeat in range(args.repeats):
            order = [("ours", ours), ("trl", trl)]
            for name, run in order if repeat % 2 == 0 else order[::-1]:
                found = run(store, tok, weights, Path(tmp) / name, args.steps, args.batch)
                runs[name].append(found)
                print(
                    f"run {repeat + 1} {name:4}: {found['samples_per_s']:7.1f} samples/s "
                    f"(training loop), {found['seconds']:6.1f} s end to end"
                )
        loop = {
            name: statistics.median(r["samples_per_s"] for r in found)
            for name, found in runs.items()
        }
        whole = {
            name: statistics.median(r["seconds"] for r in found) for name, found in runs.items()
        }
        print(
            f"median training loop: ours {loop['ours']:.1f}, TRL {loop['trl']:.1f} samples/s; "
            f"ratio ours / TRL {loop['ours'] / loop['trl']:.2f} (goal >= 1.0)"
        )
        print(
            f"median end to end: ours {whole['ours']:.1f} s, TRL {whole['trl']:.1f} s; "
            f"ratio TRL / ours {whole['trl'] / whole['ours']:.2f}"
        )
        a, b = runs["ours"][0]["losses"], runs["trl"][0]["losses"]
        gap = max(abs(x - y) for x, y in zip(a, b, strict=True))
        print(
            f"loss curves over {len(a)} steps: ours {a[0]:.4f} -> {a[-1]:.4f}, "
            f"TRL {b[0]:.4f} -> {b[-1]:.4f}; max |ours - TRL| = {gap:.2e}"
        )
        store.close()

        # Evaluation: about --eval-steps labelled steps (fill makes 2 steps per item on average).
        evaluated = lw.Store(Path(tmp) / "eval.db", annotator="rule")
        prm_support.fill(evaluated, n=args.eval_steps // 2, seed=1)
        scorer = lw.StepScorer(model(tok, weights), tok, batch_size=64)
        started = time.perf_counter()
        report = lw.evaluate_prm(scorer, evaluated)
        seconds = time.perf_counter() - started
        steps = report["overall"]["steps"]
        print(
            f"evaluate_prm: {steps} steps in {report['overall']['solutions']} solutions, "
            f"{seconds:.1f} s ({steps / seconds:.0f} steps/s)"
        )
        evaluated.close()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
