"""The active loop on synthetic step-by-step items with known truth: does the PRM's order pay?

Items are examples/train_prm.py's sums worked out one addition at a time, some steps wrong.
A simulated annotator (each step's rating flipped with probability ``--error``) labels the
items a strategy hands out through ``store.claim(order=…)``, ``--batch`` items at a time; after
each batch a tiny PRM is trained from scratch on every label so far (the rows ``StepDataset``
reads: people's labels only), scored on held-out items, and run over the pool with
``lw.suggest`` (which reorders the queue). The PRM is a two-layer perceptron on one-hots of each
step's numbers and the prompt's running total (given to ``suggest`` as ``fn(prompt, steps)``):
examples/train_prm.py's transformer needs thousands of labels before it beats "every step is
right", too many for a run of a few minutes. Reported, in one run:

* per strategy (random, uncertainty, convincing_wrong): held-out step accuracy and
  earliest-error F1 against the number of human labels (steps);
* the labels each strategy needs to reach the accuracy random order reaches with all of its
  labels, as a share of those (goal <= 1/3);
* keystrokes per step with suggestions on, for an annotator who accepts the suggestions they
  agree with (``a``, or ``A`` once every remaining one is right) and types the rest, plus
  ``N`` to the next item; and with suggestions off, in the same run (goal <= 1.2);
* Krippendorff's alpha between two simulated annotators (10% and 20% errors) on the same
  items, from ``lw.agreement``, next to the value their error rates imply.

    .venv/bin/python benchmarks/active.py                  # about 5 minutes on 2 busy cores
    .venv/bin/python benchmarks/active.py --pool 600 --rounds 4 --batch 40   # smoke run
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

import labwidget as lw
from labwidget.data import StepDataset
from labwidget.metrics import NO_ERROR, earliest_error_f1

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from train_prm import solution, word_tokenizer

STRATEGIES = ("random", "uncertainty", "convincing_wrong")
P_ERROR = 0.25  # share of wrong steps in the generated solutions


def make_items(rng: random.Random, n: int) -> list[dict[str, Any]]:
    items = []
    for _ in range(n):
        prompt, steps, ratings = solution(rng, rng.randint(2, 4), P_ERROR)
        total = sum(int(t) for t in prompt.removeprefix("sum ").split(" + "))
        items.append({"prompt": prompt, "steps": steps, "truth": ratings, "answer": total})
    return items


def last_number_is_right(item: dict[str, Any], completion: str) -> bool:
    """The final answer check for these sums: the last step's result against the true total."""
    return int(completion.rsplit("=", 1)[1]) == int(item["meta"]["ground_truth_answer"])


V = 32  # numbers -3..28 as one-hot slots


def features(prompt: str, steps: list[str]) -> torch.Tensor:
    """Per step: one-hots of the step's start, term and result, and the true running total.

    The PRM sees the prompt (so the running total) and the step; it must learn addition and
    that a step starts from the total, from labels alone.
    """
    terms = [int(t) for t in prompt.removeprefix("sum ").split(" + ")]
    rows = torch.zeros(len(steps), 4 * V)
    total = terms[0]
    for k, step in enumerate(steps):
        left, shown = step.split(" = ")
        start, term = left.split(" + ")
        for slot, number in enumerate((int(start), int(term), int(shown), total)):
            rows[k, slot * V + min(max(number + 3, 0), V - 1)] = 1.0
        total += terms[k + 1] if k + 1 < len(terms) else 0
    return rows


class StepMLP(nn.Module):
    """The PRM: a two-layer perceptron on each step's features, a probability out."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4 * V, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1)

    @torch.no_grad()
    def __call__(self, prompt: str, steps: list[str]) -> list[float]:  # type: ignore[override]
        """``fn(prompt, steps)`` for ``lw.suggest``: each step's probability of being right."""
        return torch.sigmoid(self.forward(features(prompt, steps))).tolist()


def train(store: lw.Store, epochs: int, seed: int) -> StepMLP:
    """A new PRM fit on every person's label in the store (as StepDataset reads them)."""
    torch.manual_seed(seed)
    rows = list(StepDataset(store, word_tokenizer(), dataset="pool", source="human").rows())
    x = torch.cat([features(r["prompt"], r["completions"]) for r in rows])
    y = torch.tensor([float(label) for r in rows for label in r["labels"]])
    model = StepMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        loss = loss_fn(model.forward(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def first_error(ratings: list[int]) -> int:
    return next((k for k, r in enumerate(ratings) if r == -1), NO_ERROR)


def evaluate(model: StepMLP, held_out: list[dict[str, Any]]) -> tuple[float, float]:
    """Held-out step accuracy and earliest-error F1 of the PRM (a step is right at p >= 0.5)."""
    scores = [model(item["prompt"], item["steps"]) for item in held_out]
    right = total = 0
    predicted, truth = [], []
    for item, probabilities in zip(held_out, scores, strict=True):
        said = [1 if p >= 0.5 else -1 for p in probabilities]
        right += sum(s == t for s, t in zip(said, item["truth"], strict=True))
        total += len(said)
        predicted.append(first_error(said))
        truth.append(first_error(item["truth"]))
    f1 = earliest_error_f1(predicted, truth)["f1"]
    return right / total, f1 or 0.0


def label(annotator: random.Random, truth: list[int], error: float) -> list[int]:
    return [-t if annotator.random() < error else t for t in truth]


def run_strategy(
    strategy: str,
    pool: list[dict[str, Any]],
    held_out: list[dict[str, Any]],
    args: argparse.Namespace,
    folder: Path,
) -> tuple[list[tuple[int, float, float]], StepMLP]:
    store = lw.Store(folder / f"{strategy}.db", annotator="sim")
    by_id: dict[str, dict[str, Any]] = {}
    with store.batch() as batch:
        for item in pool:
            item_id = batch.add_item(
                item["prompt"], item["steps"], dataset="pool",
                meta={"ground_truth_answer": str(item["answer"])},
            )  # fmt: skip
            by_id[item_id] = item
    annotator = random.Random(args.seed)
    curve = []
    labels = 0
    for round_ in range(args.rounds):
        # Every strategy starts from the same random first batch: no model yet.
        order = "random" if round_ == 0 else strategy
        claimed = store.claim(args.batch, order=order, seed=args.seed, dataset="pool")
        with store.batch() as batch:
            for item_id in claimed:
                for step, value in enumerate(label(annotator, by_id[item_id]["truth"], args.error)):
                    batch.record("rating", item=item_id, step=step, value=value)
                    labels += 1
        model = train(store, args.epochs, args.seed)
        accuracy, f1 = evaluate(model, held_out)
        curve.append((labels, accuracy, f1))
        print(
            f"  {strategy:>16} round {round_ + 1}: {labels:5d} labels  "
            f"accuracy {accuracy:.3f}  F1 {f1:.3f}",
            flush=True,
        )
        if strategy != "random" and round_ + 1 < args.rounds:
            lw.suggest(
                store, model, name="prm", version=str(round_), dataset="pool",
                checker=last_number_is_right, progress=False,
            )  # fmt: skip
    store.close()
    return curve, model


def keystrokes(
    model: StepMLP, items: list[dict[str, Any]], error: float, seed: int
) -> tuple[float, float]:
    """Keys per step with suggestions on (accepting the ones the annotator agrees with) and off."""
    annotator = random.Random(seed)
    scores = [model(item["prompt"], item["steps"]) for item in items]
    on = off = steps = 0
    for item, probabilities in zip(items, scores, strict=True):
        wanted = label(annotator, item["truth"], error)
        suggested = [1 if p >= 0.5 else -1 for p in probabilities]
        cursor = 0
        while cursor < len(wanted):
            on += 1
            if suggested[cursor:] == wanted[cursor:]:
                break  # "A" accepts every remaining suggestion
            cursor += 1  # "a", or the rating typed in: either moves on
        on += 1  # "N": the next item
        off += len(wanted) + 1
        steps += len(wanted)
    return on / steps, off / steps


def alpha_check(rng: random.Random, folder: Path, n: int) -> tuple[float, float]:
    """Alpha between annotators with 10% and 20% errors, measured and implied by the rates."""
    items = make_items(rng, n)
    store = lw.Store(folder / "alpha.db", annotator="sim")
    errors = {"ten": 0.1, "twenty": 0.2}
    positives = total = 0
    with store.batch() as batch:
        for item in items:
            item_id = batch.add_item(item["prompt"], item["steps"])
            for who, error in errors.items():
                for step, value in enumerate(label(rng, item["truth"], error)):
                    batch.record("rating", item=item_id, step=step, value=value, annotator=who)
            positives += item["truth"].count(1)
            total += len(item["truth"])
    measured = lw.agreement(store).alpha["alpha"]
    store.close()
    # Two coders, binary values: alpha = 1 - P(disagree) / P(two labels drawn from the pooled
    # labels differ), with every rate implied by the truth's share of right steps.
    share = positives / total
    e1, e2 = errors.values()
    disagree = e1 * (1 - e2) + e2 * (1 - e1)
    q = sum(share * (1 - e) + (1 - share) * e for e in (e1, e2)) / 2
    labels = 2 * total
    expected = 2 * q * (1 - q) * labels / (labels - 1)
    return float(measured), 1 - disagree / expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", type=int, default=1500)
    parser.add_argument("--held-out", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=50, help="items labeled per round")
    parser.add_argument("--epochs", type=int, default=300, help="full-batch Adam steps")
    parser.add_argument("--error", type=float, default=0.1, help="the annotator's error rate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(1)  # the cores are shared
    rng = random.Random(args.seed)
    pool, held_out = make_items(rng, args.pool), make_items(rng, args.held_out)
    curves = {}
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"pool {args.pool} items, held out {args.held_out}; annotator error {args.error:.0%}")
        for strategy in STRATEGIES:
            curves[strategy], models[strategy] = run_strategy(
                strategy, pool, held_out, args, Path(tmp)
            )
        target = curves["random"][-1][1]
        budget = curves["random"][-1][0]
        print(f"\nrandom order reaches accuracy {target:.3f} with {budget} labels")
        for strategy, curve in curves.items():
            needed = next((n for n, accuracy, _ in curve if accuracy >= target), None)
            share = (
                "never"
                if needed is None
                else f"{needed} labels = {needed / budget:.2f} of random's"
            )
            print(f"  {strategy:>16}: reaches it with {share} (goal <= 0.33)")
        # The suggestions of the PRM trained on all of random order's labels.
        on, off = keystrokes(models["random"], held_out, args.error, args.seed)
        print(f"\nkeystrokes per step: {on:.2f} with suggestions on, {off:.2f} off (goal <= 1.2)")
        measured, implied = alpha_check(random.Random(args.seed + 1), Path(tmp), 1000)
        print(
            f"alpha between 10% and 20% annotators: {measured:.3f} measured, {implied:.3f} implied"
        )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
