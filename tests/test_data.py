"""StepDataset / PreferenceDataset: TRL-identical encodings, store filters, loaders, samplers."""

from __future__ import annotations

import logging
import os
import random
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
prm = pytest.importorskip("trl.experimental.prm")
reward = pytest.importorskip("trl.trainer.reward_trainer")

import labwidget as lw  # noqa: E402
from labwidget.data import (  # noqa: E402
    PreferenceCollator,
    PreferenceDataset,
    StepCollator,
    StepDataset,
    encode_steps,
)
from labwidget.formats.trl import stepwise  # noqa: E402

WORDS = [
    "two",
    "plus",
    "three",
    "is",
    "five",
    "so",
    "the",
    "answer",
    "seven",
    "wrong",
    "step",
    "check",
    "x",
    "y",
    "=",
    "+",
    "-",
    "*",
    "1",
    "2",
    "3",
    "4",
]


def tiny_tokenizer(*, bos: bool) -> Any:
    """A byte-level BPE trained here on generated text, wrapped as a HF fast tokenizer."""
    rng = random.Random(0)
    text = [" ".join(rng.choice(WORDS) for _ in range(12)) + "\n\n" for _ in range(400)]
    core = tokenizers.Tokenizer(tokenizers.models.BPE())
    core.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(text, trainer)
    special = {"bos_token": "<s>"} if bos else {}
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", eos_token="</s>", **special
    )


@pytest.fixture(scope="module", params=["bos", "no-bos"])
def tok(request: pytest.FixtureRequest) -> Any:
    return tiny_tokenizer(bos=request.param == "bos")


class MockTokenizer:
    """TRL's own unit-test tokenizer for tokenize_row (tests/experimental/test_prm_trainer.py)."""

    bos_token_id = 0
    ids: ClassVar[dict[str, list[int]]] = {
        "Which number is larger, 9.8 or 9.11?": [465, 6766, 318, 298],
        "11 is greater than 8.": [4, 322, 12],
        "Hence, 9.11 > 9.8.": [4995, 11, 22],
        "\n": [1030],
        "\n\n": [1030, 1030],
    }

    def __call__(self, text: Any, add_special_tokens: bool = True) -> dict[str, Any]:
        if isinstance(text, list):
            return {"input_ids": [self.ids[t] for t in text]}
        return {"input_ids": self.ids[text]}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.ids[text]


RECIPE = {
    "prompt": "Which number is larger, 9.8 or 9.11?",
    "completions": ["11 is greater than 8.", "Hence, 9.11 > 9.8."],
    "labels": [True, False],
}


def test_recipe_literal_examples() -> None:
    [one] = encode_steps([RECIPE], MockTokenizer())
    assert one == {
        "input_ids": [0, 465, 6766, 318, 298, 4, 322, 12, 1030, 4995, 11, 22, 1030],
        "labels": [-100, -100, -100, -100, -100, -100, -100, -100, 1, -100, -100, -100, 0],
    }
    [two] = encode_steps([RECIPE], MockTokenizer(), step_separator="\n\n")
    assert two["input_ids"] == [
        0,
        465,
        6766,
        318,
        298,
        4,
        322,
        12,
        1030,
        1030,
        4995,
        11,
        22,
        1030,
        1030,
    ]
    assert two["labels"] == [-100] * 9 + [1] + [-100] * 4 + [0]
    [last] = encode_steps([RECIPE], MockTokenizer(), train_on_last_step_only=True)
    assert last["labels"] == [-100] * 12 + [0]
    [cut] = encode_steps([RECIPE], MockTokenizer(), max_length=9)
    assert cut["labels"] == [-100] * 8 + [1]


def random_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    alphabet = [*WORDS, "\n", " ", "ки", "é", "<s>", "", "  "]

    def text() -> str:
        return "".join(
            rng.choice(alphabet) + rng.choice(["", " "]) for _ in range(rng.randint(0, 9))
        )

    rows = []
    for _ in range(n):
        k = rng.randint(1, 6)
        labels = [rng.choice([True, False, 0, 1, 0.9, 1.0]) for _ in range(k)]
        rows.append({"prompt": text(), "completions": [text() for _ in range(k)], "labels": labels})
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_identical_to_trl_tokenize_row(tok: Any, seed: int) -> None:
    rng = random.Random(seed)
    rows = random_rows(100, seed)
    settings = {
        "step_separator": rng.choice(["\n", "\n\n", " ки", "<s>"]),
        "max_length": rng.choice([None, 1024, 20, 7]),
        "max_completion_length": rng.choice([None, 15, 3]),
        "train_on_last_step_only": seed % 2 == 1,
        "is_eval": seed == 3,
    }
    ours = encode_steps(rows, tok, **settings)
    theirs = [prm.PRMTrainer.tokenize_row(row, tok, **settings) for row in rows]
    assert ours == theirs
    collate = StepCollator(pad_token_id=tok.pad_token_id)
    trl_collate = transformers.DataCollatorForTokenClassification(tok, return_tensors="pt")
    batch, expected = collate(ours[:8]), trl_collate(theirs[:8])
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(batch[key], expected[key]), key


def solution(store: lw.Store, prompt: str, n: int = 3, dataset: str = "default") -> str:
    return store.add_item(prompt, [f"step {i} of {prompt}" for i in range(n)], dataset=dataset)


def rate(store: lw.Store, item: str, values: list[int], **event: Any) -> None:
    for step, value in enumerate(values):
        store.record_label(item=item, step=step, value=value, **event)


def test_rows_match_the_trl_export_and_tensors_match_trl(store: lw.Store, tok: Any) -> None:
    branchy = store.add_item("q0", ["a", ["b0", "b1", "b2"], "c"])
    for (step, alt), value in {(0, 0): 1, (1, 0): -1, (1, 1): 0, (1, 2): 1, (2, 0): 1}.items():
        store.record_label(item=branchy, step=step, alt=alt, value=value)
    store.choose(item=branchy, step=0, alt=0)
    store.choose(item=branchy, step=1, alt=2)
    store.choose(item=branchy, step=2, alt=0)
    plain = solution(store, "q1")
    rate(store, plain, [1, 1, -1])
    rate(store, plain, [1, 0], annotator="other")
    ds = StepDataset(store, tok, drop_unlabeled=False)
    exported = list(stepwise(store))
    assert list(ds.rows()) == exported
    assert [ds[i] for i in range(len(ds))] == [
        prm.PRMTrainer.tokenize_row(row, tok, "\n", 1024, None, False, False) for row in exported
    ]
    # Cut short, TRL leaves rows with no label at all; drop_unlabeled=False keeps them as TRL does.
    cut = StepDataset(store, tok, max_length=4, drop_unlabeled=False)
    assert cut.unlabeled_rows > 0
    assert [cut[i] for i in range(len(cut))] == [
        prm.PRMTrainer.tokenize_row(row, tok, "\n", 4, None, False, False) for row in exported
    ]
    assert [r["completions"] for r in ds.rows()] == [
        ["a", "b0"],
        ["a", "b1"],
        ["a", "b2", "c"],
        ["step 0 of q1", "step 1 of q1", "step 2 of q1"],
        ["step 0 of q1", "step 1 of q1"],
    ]
    assert [r["labels"] for r in StepDataset(store, tok, neutral="true").rows()][1] == [True, True]
    assert len(StepDataset(store, tok, neutral="drop")) == 3


def test_filters(store: lw.Store, tok: Any) -> None:
    early = datetime(2026, 1, 1, tzinfo=timezone.utc)
    late = early + timedelta(days=10)
    a = solution(store, "qa", dataset="train")
    b = solution(store, "qb", dataset="test")
    rate(store, a, [1, 1, 1], annotator="ann", created_at=early)
    rate(store, a, [1, 1, -1], annotator="bob", created_at=late)
    rate(store, a, [1, -1, -1], annotator="cat", source="model:judge", created_at=late)
    rate(store, b, [1, -1, 1], annotator="ann", source="auto:rollout", created_at=late)

    def labels(**only: Any) -> list[list[bool]]:
        return [row["labels"] for row in StepDataset(store, tok, **only).rows()]

    t, f = True, False
    assert labels() == [[t, t, t], [t, t, f], [t, f, f], [t, f, t]]
    assert labels(annotator="ann") == [[t, t, t], [t, f, t]]
    assert labels(source="human") == [[t, t, t], [t, t, f]]
    assert labels(source="model") == [[t, f, f]]
    assert labels(source="model:judge") == [[t, f, f]]
    assert labels(source="auto") == [[t, f, t]]
    assert labels(dataset="test") == [[t, f, t]]
    assert labels(since=late) == [[t, t, f], [t, f, f], [t, f, t]]
    assert labels(until=late) == [[t, t, t]]
    # qa: ann is alone (1 of 3) on step 2, cat alone on step 1; bob agrees with 2 of 3 on each
    assert labels(min_agreement=0.3) == labels()
    assert labels(min_agreement=0.5) == [[t, t, f], [t, f, t]]
    assert labels(min_agreement=0.6, annotator="bob") == [[t, t, f]]


def filled(store: lw.Store, n: int) -> None:
    with store.batch() as batch:
        for i in range(n):
            item = batch.add_item(f"question {i}", [f"s{i}a", f"s{i}b"])
            batch.record("rating", item=item, step=0, value=1)
            batch.record("rating", item=item, step=1, value=(-1) ** i)


def test_dataloader_workers_yield_each_example_once(store: lw.Store, tok: Any) -> None:
    filled(store, 41)
    ds = StepDataset(store, tok)
    assert len(ds) == 41
    expected = sorted(tuple(ds[i]["input_ids"]) for i in range(len(ds)))
    loader = torch.utils.data.DataLoader(
        ds, batch_size=4, shuffle=True, num_workers=2, collate_fn=ds.collate
    )
    seen = []
    for batch in loader:
        for ids, mask in zip(batch["input_ids"], batch["attention_mask"], strict=True):
            seen.append(tuple(ids[mask.bool()].tolist()))
    assert sorted(seen) == expected


def test_distributed_sampler_covers_everything_once(store: lw.Store, tok: Any) -> None:
    filled(store, 40)
    ds = StepDataset(store, tok)
    seen = []
    for rank in range(2):
        sampler = torch.utils.data.DistributedSampler(ds, num_replicas=2, rank=rank, seed=3)
        part = [ds[i]["input_ids"] for i in sampler]
        assert len(part) == 20
        seen += part
    assert sorted(map(tuple, seen)) == sorted(tuple(ds[i]["input_ids"]) for i in range(40))


def test_collated_batch_is_literal() -> None:
    rows = [RECIPE, {**RECIPE, "completions": RECIPE["completions"][:1], "labels": [False]}]
    batch = StepCollator(pad_token_id=7)(encode_steps(rows, MockTokenizer()))
    assert batch["input_ids"].tolist() == [
        [0, 465, 6766, 318, 298, 4, 322, 12, 1030, 4995, 11, 22, 1030],
        [0, 465, 6766, 318, 298, 4, 322, 12, 1030, 7, 7, 7, 7],
    ]
    assert batch["attention_mask"].tolist() == [[1] * 13, [1] * 9 + [0] * 4]
    assert batch["labels"].tolist() == [
        [-100] * 8 + [1, -100, -100, -100, 0],
        [-100] * 8 + [0, -100, -100, -100, -100],
    ]


def test_preference_dataset_matches_reward_trainer(store: lw.Store, tok: Any) -> None:
    first = store.add_comparison("2+2 is", " four", " five")
    second = store.add_comparison("1+1 is", " three", " two</s>")
    too_long = store.add_comparison("x " * 80, " y", " z")
    store.record_preference(first, "a", strength=1.5)
    store.record_preference(second, "b")
    store.record_preference(too_long, "a")
    ds = PreferenceDataset(store, tok, max_length=40)
    assert len(ds) == 2
    assert ds.too_long_pairs == 1
    ids = tok(["2+2 is four</s>", "1+1 is two</s>", "2+2 is five</s>", "1+1 is three</s>"])
    assert [ds[0]["chosen_ids"], ds[1]["chosen_ids"]] == ids["input_ids"][:2]
    assert [ds[0]["rejected_ids"], ds[1]["rejected_ids"]] == ids["input_ids"][2:]
    assert [ds[0]["margin"], ds[1]["margin"]] == [1.5, 0.0]
    batch = ds.collate([ds[0], ds[1]])
    expected = reward.DataCollatorForPreference(pad_token_id=tok.pad_token_id)([ds[0], ds[1]])
    assert set(batch) == set(expected) == {"input_ids", "attention_mask", "margin"}
    for key in batch:
        assert torch.equal(batch[key], expected[key]), key
    assert isinstance(ds.collate, PreferenceCollator)


def word_tokenizer() -> Any:
    """One token per space-separated word and per newline, with BOS: lengths known by eye."""
    words = ["<pad>", "<s>", "</s>", "\n", "q", "a", "b", "c", "d", "e", "f"]
    core = tokenizers.Tokenizer(
        tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<pad>")
    )
    core.pre_tokenizer = tokenizers.pre_tokenizers.Sequence(
        [
            tokenizers.pre_tokenizers.Split("\n", "isolated"),
            tokenizers.pre_tokenizers.Split(" ", "removed"),
        ]
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", pad_token="<pad>", eos_token="</s>"
    )


@pytest.fixture
def three_rows(store: lw.Store) -> lw.Store:
    """BOS + "q", then steps of 2 + 1 (separator) tokens: the labels sit at positions 4, 7, 10;
    a 6-word step's at 8; a 1-word step's at 3."""
    rate(store, store.add_item("q", ["a b", "a b", "a b"]), [1, 1, -1])
    rate(store, store.add_item("q", ["a b c d e f"]), [1])
    rate(store, store.add_item("q", ["c"]), [-1])
    return store


@pytest.mark.parametrize(
    ("settings", "counts", "kept"),
    [
        ({}, (0, 0, 0), [[1, 1, 0], [1], [0]]),
        ({"max_length": 6}, (3, 2, 1), [[1], [0]]),
        ({"max_length": None, "max_completion_length": 4}, (3, 2, 1), [[1], [0]]),
        ({"max_length": 8}, (2, 2, 1), [[1, 1], [0]]),
        ({"max_length": 9}, (1, 1, 0), [[1, 1], [1], [0]]),
        ({"max_length": 6, "train_on_last_step_only": True}, (2, 2, 2), [[0]]),
        ({"max_length": 11, "train_on_last_step_only": True}, (0, 0, 0), [[0], [1], [0]]),
        ({"max_length": 6, "train_on_last_step_only": True, "is_eval": True}, (3, 2, 1), None),
        ({"max_length": 2}, (5, 3, 3), []),
    ],
)
def test_truncation_is_counted_and_unlabeled_rows_are_dropped(
    three_rows: lw.Store,
    settings: dict[str, Any],
    counts: tuple[int, int, int],
    kept: list[list[int]] | None,
) -> None:
    ds = StepDataset(three_rows, word_tokenizer(), **settings)
    assert (ds.truncated_labels, ds.truncated_rows, ds.unlabeled_rows) == counts
    if kept is not None:
        assert [[x for x in ds[i]["labels"] if x != -100] for i in range(len(ds))] == kept
    everything = StepDataset(three_rows, word_tokenizer(), drop_unlabeled=False, **settings)
    assert len(everything) == 3
    assert len(ds) == 3 - counts[2]
    labeled = [set(everything[i]["labels"]) != {-100} for i in range(len(everything))]
    assert list(ds.rows()) == [
        row for row, keep in zip(everything.rows(), labeled, strict=True) if keep
    ]


def test_the_rows_left_after_a_cut_are_literal(three_rows: lw.Store) -> None:
    ds = StepDataset(three_rows, word_tokenizer(), max_length=5)
    assert [ds[i] for i in range(len(ds))] == [
        {"input_ids": [1, 4, 5, 6, 3], "labels": [-100, -100, -100, -100, 1]},
        {"input_ids": [1, 4, 7, 3], "labels": [-100, -100, -100, 0]},
    ]


def test_a_build_that_cuts_labels_says_so_once(
    three_rows: lw.Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="labwidget.data"):
        StepDataset(three_rows, word_tokenizer(), max_length=6)
        StepDataset(three_rows, word_tokenizer(), max_length=6, drop_unlabeled=False)
        StepDataset(three_rows, word_tokenizer(), max_length=9)
        StepDataset(three_rows, word_tokenizer())
    assert [r.getMessage() for r in caplog.records] == [
        "StepDataset: max_length=6 cut off 3 step labels in 2 rows; 1 rows were left with no "
        "label, and the dataset dropped them (drop_unlabeled=False keeps them, as TRL does)",
        "StepDataset: max_length=6 cut off 3 step labels in 2 rows; 1 rows were left with no "
        "label, and the dataset kept them: they train on nothing, and a batch of only such rows "
        "has a NaN loss",
        "StepDataset: max_length=9 cut off 1 step labels in 1 rows",
    ]


def test_too_long_preference_pairs_are_counted_and_logged(
    store: lw.Store, tok: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store.record_preference(store.add_comparison("x " * 80, " y", " z"), "a")
    store.record_preference(store.add_comparison("2+2 is", " four", " five"), "a")
    with caplog.at_level(logging.WARNING, logger="labwidget.data"):
        ds = PreferenceDataset(store, tok, max_length=40)
    assert (len(ds), ds.too_long_pairs) == (1, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "PreferenceDataset: left out 1 of 2 pairs with a side longer than max_length=40 tokens, "
        "as TRL does; raise max_length to keep them"
    ]


def test_follow_yields_each_finished_labeling_encoded_once_in_commit_order(
    store: lw.Store,
) -> None:
    tok = word_tokenizer()
    first, second = store.add_item("q", ["a b"]), store.add_item("q", ["a", "b"])
    ds = StepDataset(store, tok)
    store.record_label(item=first, step=0, value=1)
    store.record_label(item=second, step=0, value=-1)
    store.finish(item=second, reason="found_error")
    store.record_label(item=first, step=0, value=1, annotator="bo")  # never finished
    store.finish(item=first, reason="solution")
    got = list(ds.follow(since=0, poll_s=0.05, idle_s=0.3))
    assert [(g["item"], g["input_ids"], g["labels"]) for g in got] == [
        (second, [1, 4, 5, 3], [-100, -100, -100, 0]),
        (first, [1, 4, 5, 6, 3], [-100, -100, -100, -100, 1]),
    ]
    assert got[0]["seq"] < got[1]["seq"]
    store.record_label(item=first, step=0, value=-1)
    store.finish(item=first, reason="found_error")
    later = list(ds.follow(since=got[-1]["seq"], poll_s=0.05, idle_s=0.3))
    assert [(g["item"], g["labels"][-1]) for g in later] == [(first, 0)]
    assert ds.collate(later)["labels"].tolist() == [[-100, -100, -100, -100, 0]]
