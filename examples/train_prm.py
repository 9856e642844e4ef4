"""Train a tiny process reward model on step labels from a labwidget store (CPU, under a minute).

1. Generate step-by-step arithmetic solutions in which some steps are wrong (known truth).
2. Label every step through the store, as an automatic annotator would (``auto:checker``).
3. Train a small transformer token classifier on ``lw.StepDataset`` (tokenized as TRL's PRM
   trainer does: the label sits on the separator after each step).
4. Report held-out step accuracy and AUROC, before and after training.

    python examples/train_prm.py [--problems 3000] [--epochs 4] [--store prm_demo.db]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from torch import nn
from transformers import PreTrainedTokenizerFast

import labwidget as lw
from labwidget.data import StepDataset

NUMBERS = [str(n) for n in range(-2, 25)]


def solution(rng: random.Random, n_steps: int, p_error: float) -> tuple[str, list[str], list[int]]:
    """A sum worked out one addition at a time; each step is wrong with probability p_error.

    A wrong step either miscopies the running total it starts from or gets the addition wrong.
    """
    terms = [rng.randint(1, 4) for _ in range(n_steps + 1)]
    prompt = "sum " + " + ".join(map(str, terms))
    steps, ratings, total = [], [], terms[0]
    for term in terms[1:]:
        start, shown = total, total + term
        if rng.random() < p_error:
            if rng.random() < 0.5:
                start = total + rng.choice([-2, -1, 1, 2])
                shown = start + term
            else:
                shown += rng.choice([-2, -1, 1, 2])
        steps.append(f"{start} + {term} = {shown}")
        ratings.append(1 if (start, shown) == (total, total + term) else -1)
        total += term  # the next step starts from the true running total
    return prompt, steps, ratings


def word_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer: numbers, operators, BOS, padding and the newline separator."""
    vocab = {tok: i for i, tok in enumerate(["<pad>", "<s>", "sum", "+", "=", "\n", *NUMBERS])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", "removed"), pre_tokenizers.Split("\n", "isolated")]
    )
    special = {"pad_token": "<pad>", "bos_token": "<s>"}
    return PreTrainedTokenizerFast(tokenizer_object=core, **special)


class TinyPRM(nn.Module):
    """A 2-layer causal transformer with a 2-way head on every token (TRL's num_labels=2)."""

    def __init__(self, vocab: int, width: int = 64, max_len: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.position = nn.Embedding(max_len, width)
        layer = nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(width, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Per-token logits for (wrong, right)."""
        n = input_ids.shape[1]
        x = self.embed(input_ids) + self.position(torch.arange(n))
        causal = torch.ones(n, n, dtype=torch.bool).triu(1)
        x = self.body(x, mask=causal, src_key_padding_mask=attention_mask == 0, is_causal=True)
        return self.head(x)  # type: ignore[no-any-return]


def auroc(scores: torch.Tensor, truth: torch.Tensor) -> float:
    """Area under the ROC curve: the chance a correct step outscores a wrong one."""
    ranks = scores.argsort().argsort().double() + 1
    positives = truth.bool()
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@torch.no_grad()
def evaluate(model: TinyPRM, ds: StepDataset) -> tuple[float, float]:
    """Step accuracy and AUROC over every labelled position of ``ds``."""
    model.eval()
    scores, truth = [], []
    loader = torch.utils.data.DataLoader(ds, batch_size=256, collate_fn=ds.collate)
    for batch in loader:
        logits = model(batch["input_ids"], batch["attention_mask"])
        at = batch["labels"] != -100
        scores.append(logits[at].softmax(-1)[:, 1])
        truth.append(batch["labels"][at])
    s, t = torch.cat(scores), torch.cat(truth)
    return float(((s > 0.5).long() == t).double().mean()), auroc(s, t)


def main() -> None:
    """Build the store, train, and print the before / after figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--store", type=Path, help="keep the store here (default: a temp file)")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.manual_seed(0)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = lw.Store(args.store or Path(tmp) / "prm_demo.db", annotator="checker")
        with store.batch() as batch:
            for i in range(args.problems):
                prompt, steps, ratings = solution(rng, rng.randint(2, 4), p_error=0.35)
                split = "test" if i % 5 == 0 else "train"
                item = batch.add_item(prompt, steps, dataset=split)
                for step, value in enumerate(ratings):
                    batch.record("rating", item=item, step=step, value=value, source="auto:checker")
        tok = word_tokenizer()
        train = StepDataset(store, tok, dataset="train", max_length=64)
        test = StepDataset(store, tok, dataset="test", max_length=64)
        print(
            f"store: {store.stats()['label_events']} labels; {len(train)} train, {len(test)} test"
        )

        model = TinyPRM(len(tok))
        before = evaluate(model, test)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
        for epoch in range(args.epochs):
            model.train()
            loader = torch.utils.data.DataLoader(
                train, batch_size=32, shuffle=True, collate_fn=train.collate
            )
            for batch in loader:
                logits = model(batch["input_ids"], batch["attention_mask"])
                loss = loss_fn(logits.flatten(0, 1), batch["labels"].flatten())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}")
        after = evaluate(model, test)
        store.close()
    print(f"held-out step accuracy: untrained {before[0]:.3f} -> trained {after[0]:.3f}")
    print(f"held-out step AUROC:    untrained {before[1]:.3f} -> trained {after[1]:.3f}")
    print(f"total time: {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
