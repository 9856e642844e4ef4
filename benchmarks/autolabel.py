"""Automatic step labels: how right they are, what they cost, and the HF generator's throughput.

1. A reasoning task with known step truth: running sums ("sum 3 + 1 + 4"), worked out one
   addition a step, a slip now and then, carried on as a model would. The rollout policy
   continues a prefix correctly with probability ``--p`` per addition and, from a wrong
   prefix, reaches the right answer only by luck (``--lucky``). A step's truth is whether the
   solution is still right after it (what rollouts estimate); the first wrong step is the
   truth for ProcessBench's earliest-error F1.
   - ``mc`` hard labels against the truth at n = 4, 8, 16 (goal: >= 85 % at n = 8), and F1;
   - ``bisect`` vs ``mc`` at the same n: rollouts used, agreement on the steps each labels;
   - the consensus router with a judge right on ``--judge-accuracy`` of steps, and a person
     (always right) who works through the review queue: of the steps up to each solution's
     first error (what PRM800K labels), the share labeled automatically, their accuracy
     (goal >= 95 %), and the share sent to the person.
   Medians of ``--runs`` runs (each its own solutions and seed).
2. The tiny character-level GRU of examples/debug_loop.ipynb, trained here, behind a Hugging
   Face tokenizer and ``generate``, through ``lw.generators.hf``: rollouts/s on the CPU with
   every prefix in one batched call vs one prefix per call; then ``autolabel`` over its own
   solutions with the default math-verify checker (rollouts/s of the whole path).

    .venv/bin/python benchmarks/autolabel.py             # a few minutes on 2 busy cores
    .venv/bin/python benchmarks/autolabel.py --runs 1 --solutions 60 --gru-steps 100  # smoke
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from torch import nn
from transformers import PreTrainedTokenizerFast

import labwidget as lw
from labwidget.auto import Prefix, math_answer
from labwidget.metrics import earliest_error_f1, first_error

STEP = re.compile(r"^(-?\d+) \+ (\d+) = (-?\d+)$")

# 1. Running sums ----------------------------------------------------------------------------


def sums(rng: random.Random, count: int, p_slip: float) -> list[tuple[str, list[str], int]]:
    """``count`` worked sums of 4 to 8 numbers; each addition slips with probability p_slip."""
    out = []
    for _ in range(count):
        numbers = [rng.randint(1, 9) for _ in range(rng.randint(4, 8))]
        shown, steps = numbers[0], []
        for term in numbers[1:]:
            result = shown + term + (rng.choice([-2, -1, 1, 2]) if rng.random() < p_slip else 0)
            steps.append(f"{shown} + {term} = {result}")
            shown = result
        steps.append(f"The answer is {shown}")
        out.append(("sum " + " + ".join(map(str, numbers)), steps, sum(numbers)))
    return out


def truth(prompt: str, steps: Sequence[str]) -> list[int]:
    """+1 while the solution is still right, −1 from its first wrong step on."""
    numbers = [int(x) for x in prompt.removeprefix("sum ").split(" + ")]
    total, right, out = numbers[0], True, []
    for index, step in enumerate(steps):
        found = STEP.match(step)
        if found and index + 1 < len(numbers):
            start, term, result = map(int, found.groups())
            right = right and start == total and result == start + term
            total += term
        else:
            right = right and step == f"The answer is {total}"
        out.append(1 if right else -1)
    return out


@dataclass
class Policy:
    """Continues a sum: each addition right with probability p; lucky from a wrong prefix."""

    p: float
    lucky: float

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        return [self.rollouts(prompt, n) for prompt in prompts]

    def rollouts(self, prefix: str, n: int) -> list[str]:
        assert isinstance(prefix, Prefix)
        rng = random.Random(prefix.seed)
        numbers = [int(x) for x in prefix.question.removeprefix("sum ").split(" + ")]
        right = truth(prefix.question, prefix.steps)[-1] == 1
        shown = int(prefix.steps[-1].rsplit(" ", 1)[1])
        out = []
        for _ in range(n):
            total = shown
            for term in numbers[len(prefix.steps) + 1 :]:
                total += term + (0 if rng.random() < self.p else rng.choice([-1, 1]))
            if not right and rng.random() < self.lucky:
                total = sum(numbers)
            out.append(f"... The answer is {total}")
        return out


@dataclass
class Judge:
    """A verifier right on each step with probability ``accuracy``."""

    accuracy: float
    seed: int

    def __call__(self, prompt: str, steps: list[str]) -> list[dict[str, Any]]:
        verdicts = []
        for index, value in enumerate(truth(prompt, steps)):
            rng = random.Random(f"{self.seed}:{prompt}:{steps[index]}:{index}")
            said = value if rng.random() < self.accuracy else -value
            verdicts.append({"value": said, "rationale": "checked the addition"})
        return verdicts


def last_answer(item: dict[str, Any], completion: str) -> bool:
    """The synthetic task's checker (math-verify is measured on the GRU below)."""
    return completion.rsplit(" ", 1)[-1] == item["meta"]["ground_truth_answer"]


def labels_by_item(store: lw.Store, annotator: str) -> dict[str, list[int | None]]:
    return {i["id"]: store.step_ratings(i["id"], annotator=annotator) for i in store.items()}


def score(store: lw.Store, annotator: str, truths: dict[str, list[int]]) -> dict[str, float]:
    """Step agreement (on the steps labeled) and earliest-error F1 against the truth."""
    labels = labels_by_item(store, annotator)
    pairs = [
        (label, true)
        for item, true_steps in truths.items()
        for label, true in zip(labels[item], true_steps, strict=True)
        if label is not None
    ]
    f1 = earliest_error_f1(
        [first_error(labels[item]) for item in truths],
        [first_error(true_steps) for true_steps in truths.values()],
    )
    return {
        "agreement": sum(label == true for label, true in pairs) / len(pairs),
        "labeled": len(pairs) / sum(map(len, truths.values())),
        "f1": f1["f1"] or 0.0,
    }


def synthetic_run(args: argparse.Namespace, run: int, tmp: Path) -> dict[str, float]:
    rng = random.Random(run)
    solutions = sums(rng, args.solutions, args.p_slip)
    policy = Policy(args.p, args.lucky)
    figures: dict[str, float] = {}

    def fresh(name: str) -> tuple[lw.Store, dict[str, list[int]]]:
        store = lw.Store(tmp / f"{name}-{run}.db", annotator="bench")
        with store.batch() as batch:
            truths = {
                batch.add_item(p, s, meta={"ground_truth_answer": str(a)}): truth(p, s)
                for p, s, a in solutions
            }
        return store, truths

    for method in ("mc", "bisect"):
        for n in (4, 8, 16):
            store, truths = fresh(f"{method}{n}")
            summary = lw.autolabel(
                store, generator=policy, checker=last_answer, method=method, n=n, seed=run,
                progress=False,
            )  # fmt: skip
            for key, value in score(store, f"auto:{method}", truths).items():
                figures[f"{method}{n} {key}"] = value
            figures[f"{method}{n} rollouts"] = summary.rollouts

    store, truths = fresh("router")
    options: dict[str, Any] = {
        "generator": policy, "checker": last_answer, "n": 8, "seed": run,
        "judge": Judge(args.judge_accuracy, run), "progress": False,
    }  # fmt: skip
    lw.autolabel(store, **options)
    # A person who is always right works through the review queue until it is empty; a run
    # after that adds the consensus labels past the disputes they settled.
    reviewed = 0
    while queue := lw.review_queue(store):
        for item in queue:
            for step, s in enumerate(lw.review_suggestions(store, item)):
                if s is not None and s["review"]:
                    store.record_label(item=item, step=step, value=truths[item][step])
                    reviewed += 1
    lw.autolabel(store, **options)
    # PRM800K labels a solution up to its first error: the steps that need a label.
    needed = sum(len(t) if -1 not in t else t.index(-1) + 1 for t in truths.values())
    agreed = [
        (e["value"], truths[e["item"]][e["step"]]) for e in store.labels(annotator="auto:consensus")
    ]
    figures["router auto share"] = len(agreed) / needed
    figures["router auto accuracy"] = sum(a == b for a, b in agreed) / len(agreed)
    figures["router human share"] = reviewed / needed
    people = {e["item"] for e in store.labels(annotator="bench")}
    figures["router items reviewed"] = len(people) / len(truths)
    return figures


# 2. The GRU of examples/debug_loop.ipynb through generators.hf --------------------------------

CHARS = "0123456789+*=?:. \nStepThanswri"
END = "|"


def problem(rng: random.Random) -> tuple[str, list[str], int]:
    a, b, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)
    steps = [f"Step 1: {b}*{c}={b * c}", f"Step 2: {a}+{b * c}={a + b * c}"]
    return f"{a}+{b}*{c}=?", [*steps, f"The answer is {a + b * c}."], a + b * c


def char_tokenizer() -> PreTrainedTokenizerFast:
    """A Hugging Face tokenizer with one token per character, a pad and an end token."""
    vocab = {ch: i for i, ch in enumerate(["<pad>", END, *dict.fromkeys(CHARS)])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), "isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        eos_token=END,
        model_input_names=["input_ids", "attention_mask"],
    )


class TinyLM(nn.Module):
    """The notebook's GRU language model, with a ``generate`` that honours left padding."""

    def __init__(self, vocab: int, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.head(out)  # type: ignore[no-any-return]

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        *,
        num_return_sequences: int = 1,
        max_new_tokens: int = 40,
        temperature: float = 0.7,
        pad_token_id: int = 0,
        eos_token_id: int = 1,
        do_sample: bool = True,
    ) -> torch.Tensor:
        ids = input_ids.repeat_interleave(num_return_sequences, 0)
        mask = attention_mask.repeat_interleave(num_return_sequences, 0).bool()
        state = torch.zeros(1, ids.shape[0], self.rnn.hidden_size, device=ids.device)
        # Pads (on the left) leave the state as it was.
        for t in range(ids.shape[1]):
            out, new = self.rnn(self.embed(ids[:, t : t + 1]), state)
            state = torch.where(mask[None, :, t, None], new, state)
        done = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        new_ids = []
        last = out[:, -1]
        for _ in range(max_new_tokens):
            logits = self.head(last)
            if do_sample:
                token = torch.multinomial(torch.softmax(logits / temperature, -1), 1)[:, 0]
            else:
                token = logits.argmax(-1)
            token = torch.where(done, torch.full_like(token, pad_token_id), token)
            new_ids.append(token)
            done |= token == eos_token_id
            if bool(done.all()):
                break
            out, state = self.rnn(self.embed(token[:, None]), state)
            last = out[:, -1]
        return torch.cat([ids, torch.stack(new_ids, 1)], 1)


def train_gru(steps: int) -> tuple[TinyLM, PreTrainedTokenizerFast]:
    tokenizer = char_tokenizer()
    torch.manual_seed(0)
    rng = random.Random(0)
    model = TinyLM(len(tokenizer))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        texts = []
        for _ in range(32):
            question, lines, _ = problem(rng)
            texts.append("\n".join([question, *lines]) + "\n" + END)
        batch = tokenizer(texts, return_tensors="pt", padding=True)["input_ids"]
        logits = model(batch[:, :-1])
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, len(tokenizer)), batch[:, 1:].reshape(-1), ignore_index=0
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), tokenizer


def gru_figures(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    torch.set_num_threads(1)
    started = time.perf_counter()
    model, tokenizer = train_gru(args.gru_steps)
    figures: dict[str, float] = {"gru train s": time.perf_counter() - started}
    rng = random.Random(1)
    prompts: list[str] = []
    for _ in range(args.prefixes):
        question, lines, _ = problem(rng)
        prompts.append(Prefix(question, lines[: rng.randint(1, 2)], seed=rng.randint(0, 9)))
    for batch_size in (len(prompts), 1):
        generate = lw.generators.hf(model, tokenizer, batch_size=batch_size, max_new_tokens=40)
        rates = []
        for _ in range(args.runs):
            began = time.perf_counter()
            out = generate(prompts, 8)
            rates.append(8 * len(out) / (time.perf_counter() - began))
        figures[f"hf rollouts/s batch {batch_size}"] = statistics.median(rates)

    # The GRU labels its own solutions, checked by math-verify: the whole path on a real model.
    # (So small a GRU gets most sums wrong, so its labels say little; the rate is the point.)
    store = lw.Store(tmp / "gru.db", annotator="bench")
    truths: dict[str, list[int]] = {}
    for _ in range(args.gru_items):
        question, _, answer = problem(rng)
        encoded = tokenizer([question + "\n"], return_tensors="pt")
        out = model.generate(**encoded, max_new_tokens=60)
        text = tokenizer.decode(out[0, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
        steps = [line for line in text.split("\n") if line.strip()][:3]
        if len(steps) < 3:
            continue
        item = store.add_item(question, steps, meta={"ground_truth_answer": str(answer)})
        truths[item] = gru_truth(question, steps)
    generate = lw.generators.hf(model, tokenizer, batch_size=64, max_new_tokens=40)
    summary = lw.autolabel(store, generator=generate, checker=math_answer, n=8, progress=False)
    figures["gru items labeled"] = len(truths)
    figures["gru items right"] = sum(-1 not in t for t in truths.values())
    figures["gru autolabel rollouts/s"] = summary.rollouts / summary.seconds
    return figures


def gru_truth(question: str, steps: list[str]) -> list[int]:
    a, b, c = (int(x) for x in re.findall(r"\d", question)[:3])
    wanted = [f"Step 1: {b}*{c}={b * c}", f"Step 2: {a}+{b * c}={a + b * c}"]
    wanted.append(f"The answer is {a + b * c}.")
    out, right = [], True
    for step, want in zip(steps, wanted, strict=True):
        right = right and step == want
        out.append(1 if right else -1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--solutions", type=int, default=300)
    parser.add_argument("--p-slip", type=float, default=0.12, help="solution slips per step")
    parser.add_argument("--p", type=float, default=0.9, help="policy right per addition")
    parser.add_argument("--lucky", type=float, default=0.02, help="policy luck from a wrong prefix")
    parser.add_argument("--judge-accuracy", type=float, default=0.85)
    parser.add_argument("--gru-steps", type=int, default=400)
    parser.add_argument("--prefixes", type=int, default=64)
    parser.add_argument("--gru-items", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [synthetic_run(args, run, Path(tmp)) for run in range(args.runs)]
        gru = gru_figures(args, Path(tmp))
    print(
        f"synthetic: {args.solutions} sums x {args.runs} runs; solutions slip {args.p_slip:.0%} "
        f"of steps; policy right {args.p:.0%} per addition, lucky {args.lucky:.0%}; "
        f"judge right on {args.judge_accuracy:.0%} of steps (medians)"
    )
    for key in runs[0]:
        values = [r[key] for r in runs]
        middle = statistics.median(values)
        shown = f"{middle:,.0f}" if "rollouts" in key else f"{middle:.3f}"
        print(f"  {key:28s} {shown:>10s}   (runs: {', '.join(f'{v:.3g}' for v in values)})")
    for n in (4, 8, 16):
        ratio = statistics.median(r[f"bisect{n} rollouts"] / r[f"mc{n} rollouts"] for r in runs)
        print(f"  {f'bisect / mc rollouts, n={n}':28s} {ratio:>10.3f}   (goal <= 0.4)")
    print("GRU through generators.hf (one CPU thread):")
    for key, value in gru.items():
        print(f"  {key:28s} {value:>10.3f}")
    batched = gru[f"hf rollouts/s batch {args.prefixes}"]
    print(f"  {'batched / one at a time':28s} {batched / gru['hf rollouts/s batch 1']:>10.1f}x")


if __name__ == "__main__":
    main()
