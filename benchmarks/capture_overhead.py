"""capture() overhead on a training-like loop: a small CPU model, with and without capture.

Each step of the loop is one optimizer step on a batch (forward, loss, backward) and one greedy
``model.generate`` of ``--new-tokens`` tokens with ``output_scores=True`` and
``return_dict_in_generate=True``, as a loop that samples completions while it trains would do.
The same loop runs in blocks of ``--steps`` steps, alternating plain blocks and blocks inside
``capture(model, tokenizer=…, store=…, sample=0.01)``, ``--repeats`` times each, so drift in
the machine hits both sides alike. It prints the median per-step time of each side, the
overhead in % (goal <= 2%), and, to explain the figure, the cost of one recording (to_item +
store.add_item into a SQLite file) and of the wrapper alone (``sample=0``).

    .venv/bin/python benchmarks/capture_overhead.py                  # about a minute
    .venv/bin/python benchmarks/capture_overhead.py --steps 50 --repeats 2   # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

import labwidget as lw
from labwidget.capture import capture
from labwidget.render import to_item

VOCAB = "\nabcdefghijklmnopqrstuvwxyz0123456789 +-*/=().,:"


class CharTokenizer:
    def __len__(self) -> int:
        return len(VOCAB)

    def decode(self, ids: list[int], /) -> str:
        return "".join(VOCAB[i] for i in ids)


class SmallLM(nn.Module):
    """Embedding, a two-layer MLP over a causal running mean, and a head: a few 100k params."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), nn.GELU()
        )
        self.head = nn.Linear(dim, len(VOCAB))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids)
        positions = torch.arange(1, x.shape[1] + 1, device=x.device)[None, :, None]
        x = x.cumsum(1) / positions
        return self.head(x + self.mlp(x))  # type: ignore[no-any-return]

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int = 32, **_: Any) -> Any:
        from transformers.generation import GenerateDecoderOnlyOutput

        ids, scores = input_ids, []
        for _step in range(max_new_tokens):
            logits = self(ids)[:, -1, :]
            scores.append(logits)
            ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
        return GenerateDecoderOnlyOutput(sequences=ids, scores=tuple(scores))


def train_steps(model: SmallLM, optimizer: torch.optim.Optimizer, args: argparse.Namespace) -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(args.steps):
        batch = torch.randint(len(VOCAB), (args.batch, args.seq), generator=generator)
        logits = model(batch[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(VOCAB)), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        prompt = batch[:1, :8]
        model.generate(
            prompt,
            max_new_tokens=args.new_tokens,
            output_scores=True,
            return_dict_in_generate=True,
        )


def timed_block(run: Any, steps: int) -> tuple[float, float]:
    """Wall and process CPU time per step of ``run()``; CPU time is less hurt by busy neighbours."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=8, help="blocks per side")
    parser.add_argument("--sample", type=float, default=0.01)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = SmallLM(args.dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokenizer = CharTokenizer()
    params = sum(p.numel() for p in model.parameters())
    print(
        f"model: {params:,} params, batch {args.batch}x{args.seq}, generate {args.new_tokens} "
        f"tokens; {args.steps} steps a block, {args.repeats} blocks a side, "
        f"{args.threads} thread(s), torch {torch.__version__}"
    )

    with tempfile.TemporaryDirectory() as tmp, lw.Store(Path(tmp) / "labels.db") as store:
        train_steps(model, optimizer, argparse.Namespace(**{**vars(args), "steps": 20}))  # warm

        plain: list[tuple[float, float]] = []
        captured: list[tuple[float, float]] = []
        handles = []
        for repeat in range(args.repeats):
            # Adjacent pairs, order alternating, so drift and neighbours' load hit both sides.
            def with_capture(seed: int = repeat) -> None:
                with capture(
                    model, tokenizer=tokenizer, store=store, sample=args.sample, seed=seed
                ) as handle:
                    train_steps(model, optimizer, args)
                handles.append(handle)

            def without() -> None:
                train_steps(model, optimizer, args)

            if repeat % 2:
                captured.append(timed_block(with_capture, args.steps))
                plain.append(timed_block(without, args.steps))
            else:
                plain.append(timed_block(without, args.steps))
                captured.append(timed_block(with_capture, args.steps))

        wrapper_only: list[tuple[float, float]] = []
        for _ in range(args.repeats):

            def zero_sample() -> None:
                with capture(model, tokenizer=tokenizer, store=store, sample=0.0):
                    train_steps(model, optimizer, args)

            wrapper_only.append(timed_block(zero_sample, args.steps))
            plain.append(timed_block(lambda: train_steps(model, optimizer, args), args.steps))

        out = model.generate(torch.zeros(1, 8, dtype=torch.long), max_new_tokens=args.new_tokens)
        record_times = []
        for i in range(20):

            def record(i: int = i) -> None:
                item = to_item(out, tokenizer=tokenizer, prompt=f"bench {i}", model=model)
                store.add_item(item.prompt, item.steps, dataset="bench", meta=item.meta)

            record_times.append(timed_block(record, 1)[0])

    n = args.repeats
    seen = sum(h.seen for h in handles)
    recorded = sum(h.recorded + h.failed for h in handles)
    one_record = statistics.median(record_times)
    print(f"one recording:      {one_record * 1e3:8.3f} ms (to_item + store.add_item, median)")
    for name, k in (("wall", 0), ("cpu", 1)):
        base = statistics.median(p[k] for p in plain[:n])
        cap = statistics.median(c[k] for c in captured)
        pairs = [c[k] / p[k] - 1 for c, p in zip(captured, plain[:n], strict=True)]
        paired = statistics.median(pairs)
        bare_paired = statistics.median(
            w[k] / p[k] - 1 for w, p in zip(wrapper_only, plain[n:], strict=True)
        )
        print(f"[{name} time]")
        print(f"  plain step:       {base * 1e3:8.3f} ms (median of {n} blocks)")
        print(
            f"  captured step:    {cap * 1e3:8.3f} ms at sample={args.sample} "
            f"({recorded} of {seen} generate outputs recorded)"
        )
        print(
            f"  overhead:         {100 * paired:+8.2f} %  (median over paired blocks; goal <= 2%)"
        )
        print(f"  wrapper only:     {100 * bare_paired:+8.2f} %  (sample=0, paired)")
        print(f"  pairs:            {' '.join(f'{100 * x:+.1f}' for x in pairs)} %")
    base_wall = statistics.median(p[0] for p in plain[:n])
    expected = args.sample * one_record / base_wall
    print(
        f"expected overhead:  {100 * expected:+8.2f} %  (sample x one recording / plain wall step)"
    )


if __name__ == "__main__":
    main()
