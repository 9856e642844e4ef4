"""Train a tiny process reward model on step labels from a labwidget store (CPU, about a minute).

1. Generate step-by-step arithmetic solutions in which some steps are wrong (known truth).
2. Label every step through the store, as an automatic annotator would (``auto:checker``).
3. Train a small transformer token classifier with ``lw.train_prm`` (``transformers.Trainer``;
   tokenized as TRL's PRM trainer did: the label sits on the separator after each step), with
   a fifth of the problems held out and evaluated after each epoch.
4. Report held-out step accuracy, AUROC and ProcessBench's earliest-error F1 with
   ``lw.evaluate_prm``, before and after training, and rerank sampled solutions with
   ``lw.best_of_n``.

    python examples/train_prm.py [--problems 2000] [--epochs 8] [--store prm_demo.db]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

import labwidget as lw

NUMBERS = [str(n) for n in range(-2, 25)]


def solution(
    rng: random.Random, n_steps: int, p_error: float, terms: list[int] | None = None
) -> tuple[str, list[str], list[int]]:
    """A sum worked out one addition at a time; each step is wrong with probability p_error.

    A wrong step either miscopies the running total it starts from or gets the addition wrong.
    ``terms`` fixes the sum (several sampled solutions to one problem); by default it is random.
    """
    terms = terms or [rng.randint(1, 4) for _ in range(n_steps + 1)]
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


def tiny_prm(vocab: int, pad: int) -> transformers.PreTrainedModel:
    """A 2-layer causal transformer with a 2-way head on every token (TRL's ``num_labels=2``)."""
    config = transformers.Qwen2Config(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=64,
        pad_token_id=pad,
        num_labels=2,
        classifier_dropout=0.0,
    )
    return transformers.AutoModelForTokenClassification.from_config(config)


def report(name: str, found: dict[str, Any]) -> str:
    """One line of ``evaluate_prm`` figures."""
    shown = {
        k: "n/a" if found[k] is None else f"{found[k]:.3f}"
        for k in ("step_accuracy", "auroc", "f1")
    }
    return (
        f"{name}: step accuracy {shown['step_accuracy']}, AUROC {shown['auroc']}, "
        f"earliest-error F1 {shown['f1']} ({found['n_erroneous']} wrong, "
        f"{found['n_correct']} right solutions)"
    )


def main() -> None:
    """Build the store, train, and print the before / after figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
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
        held = [item["id"] for item in store.items(dataset="test")]
        print(f"store: {store.stats()['label_events']} labels; {len(held)} problems held out")

        model = tiny_prm(len(tok), tok.pad_token_id)
        scorer = lw.StepScorer(model, tok, batch_size=256)
        before = lw.evaluate_prm(scorer, store, items=held)["overall"]
        training = transformers.TrainingArguments(
            output_dir=str(Path(tmp) / "prm"),
            num_train_epochs=args.epochs,
            per_device_train_batch_size=32,
            per_device_eval_batch_size=256,
            learning_rate=3e-3,
            eval_strategy="epoch",
            logging_strategy="epoch",
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            use_cpu=True,
            seed=0,
        )
        trainer = lw.train_prm(model, tok, store, eval_items=held, args=training, max_length=64)
        for entry in trainer.state.log_history:
            if "eval_error_f1" in entry:
                print(
                    f"epoch {entry['epoch']:.0f}: held-out loss {entry['eval_loss']:.3f}, "
                    f"step accuracy {entry['eval_step_accuracy']:.3f}, "
                    f"earliest-error F1 {entry['eval_error_f1']:.3f}"
                )
        after = lw.evaluate_prm(scorer, store, items=held)
        terms = [3, 1, 4, 2]
        sampled = [solution(rng, 3, p_error=0.3, terms=terms) for _ in range(4)]
        ranked = lw.best_of_n(scorer, sampled[0][0], [steps for _, steps, _ in sampled])
        store.close()
    print(report("held-out, untrained", before))
    print(report("held-out, trained  ", after["overall"]))
    print("best of 4 samples (the PRM's pick first; Best-of-N alone is a biased PRM metric):")
    for ranked_solution in ranked:
        _, steps, ratings = sampled[ranked_solution["index"]]
        truth = "right" if all(r == 1 for r in ratings) else "wrong"
        print(f"  {ranked_solution['score']:.2f} ({truth}): {' | '.join(steps)}")
    print(f"total time: {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
