"""Model outputs of every kind become items: steps, tokens aligned to steps, scores per token."""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import labwidget as lw
from labwidget.capture import label
from labwidget.render import to_item
from labwidget.widgets._buffers import unpack_float32, unpack_strings

try:
    from transformers.generation import GenerateDecoderOnlyOutput
except ImportError:  # the same fields, for a venv without transformers

    @dataclass
    class GenerateDecoderOnlyOutput:  # type: ignore[no-redef]
        sequences: torch.Tensor
        scores: tuple[torch.Tensor, ...] | None = None
        logits: tuple[torch.Tensor, ...] | None = None


VOCAB = "\nabcdefghijklmnopqrstuvwxyz0123456789 +=:.S"


class CharTokenizer:
    """One character per token, from ``vocab`` (strings of any length work too)."""

    def __init__(self, vocab: str | list[str] = VOCAB) -> None:
        self.vocab = list(vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        return [self.vocab.index(c) for c in text]

    def decode(self, ids: list[int], /) -> str:
        return "".join(self.vocab[i] for i in ids)

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.vocab[i] for i in ids]


class WordTokenizer(CharTokenizer):
    """Joins words with spaces like SentencePiece: one token decoded alone has no space."""

    def decode(self, ids: list[int], /) -> str:
        return " ".join(self.vocab[i] for i in ids)


class TinyLM(nn.Module):
    """An embedding and a linear head: logits [B, T, V]; greedy ``generate`` like HF's."""

    def __init__(self, vocab: int = len(VOCAB), dim: int = 16, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, vocab)
        self.returned: Any = None

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(input_ids))  # type: ignore[no-any-return]

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        max_new_tokens: int = 6,
        output_scores: bool = False,
        output_logits: bool = False,
        return_dict_in_generate: bool = False,
        **_: Any,
    ) -> Any:
        ids = input_ids
        steps = []
        for _step in range(max_new_tokens):
            logits = self(ids)[:, -1, :]
            steps.append(logits)
            ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
        if return_dict_in_generate:
            self.returned = GenerateDecoderOnlyOutput(
                sequences=ids,
                scores=tuple(steps) if output_scores else None,
                logits=tuple(s + 1.0 for s in steps) if output_logits else None,
            )
        else:
            self.returned = ids
        return self.returned


TOK = CharTokenizer()


def ids_of(text: str) -> torch.Tensor:
    return torch.tensor([TOK.encode(text)])


def scores_for(text: str, rows: list[list[float]] | None = None) -> tuple[torch.Tensor, ...]:
    """Logits rows [1, V] (all zeros unless given) that chose the characters of ``text``."""
    rows = rows or [[0.0] * len(TOK) for _ in text]
    return tuple(torch.tensor([row]) for row in rows)


def generated(prompt: str, text: str, **fields: Any) -> Any:
    fields.setdefault("scores", scores_for(text))
    return GenerateDecoderOnlyOutput(sequences=ids_of(prompt + text), **fields)


# Splitters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("split", "text", "steps"),
    [
        ("newline", "a = 1\n\nb = 2\n  c = 3 \n", ["a = 1", "b = 2", "c = 3"]),
        ("blank", "a = 1\nb = 2\n \nc = 3", ["a = 1\nb = 2", "c = 3"]),
        (
            "step",
            "Let us see.\nStep 1: add\nthen carry\nstep 2. done",
            ["Let us see.", "Step 1: add\nthen carry", "step 2. done"],
        ),
        (re.compile(r";\s*"), "x; y;z", ["x", "y", "z"]),
        (lambda text: text.split(" | "), "one | two | three", ["one", "two", "three"]),
    ],
)
def test_text_is_split_into_steps(split: Any, text: str, steps: list[str]) -> None:
    item = to_item(text, prompt="q", split=split)
    assert item.prompt == "q"
    assert item.steps == steps
    assert item.tokens == []
    assert item.token_logprobs is None
    assert item.step_token_counts == []


def test_a_list_of_steps_is_kept_as_it_is() -> None:
    item = to_item(["x = 1\n", "so y = 2"], prompt="p")
    assert item.steps == ["x = 1\n", "so y = 2"]
    assert item.meta == {"input": "steps", "split": "newline"}


def test_a_splitter_must_return_pieces_of_the_text() -> None:
    with pytest.raises(ValueError, match=r"splitter returned step 1 \('zzz'\), which is not"):
        to_item("a b", split=lambda text: ["a", "zzz"])
    with pytest.raises(ValueError, match="unknown split 'lines'"):
        to_item("a b", split="lines")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("split", "steps", "counts"),
    [
        ("newline", ["ab", "cd", "e"], [3, 4, 1]),
        ("blank", ["ab\ncd", "e"], [7, 1]),
        ("step", ["ab\ncd\n\ne"], [8]),
    ],
)
def test_tokens_go_to_the_step_they_start_in(
    split: str, steps: list[str], counts: list[int]
) -> None:
    item = to_item(ids_of("ab\ncd\n\ne"), tokenizer=TOK, split=split)  # type: ignore[arg-type]
    assert item.steps == steps
    assert item.tokens == list("ab\ncd\n\ne")
    assert item.step_token_counts == counts


def test_a_token_straddling_a_boundary_belongs_to_the_step_where_it_starts() -> None:
    tok = CharTokenizer(["a", "b\nc", "d", "\n", " "])
    item = to_item([0, 1, 2, 3, 4, 0], tokenizer=tok)
    assert item.steps == ["ab", "cd", "a"]
    assert item.tokens == ["a", "b\nc", "d", "\n", " ", "a"]
    assert item.step_token_counts == [2, 3, 1]


def test_leading_separators_go_to_the_first_step() -> None:
    item = to_item(ids_of("\n\nab\nc"), tokenizer=TOK)
    assert item.steps == ["ab", "c"]
    assert item.step_token_counts == [5, 1]


def test_pieces_follow_the_full_text_when_tokens_decode_differently_alone() -> None:
    tok = WordTokenizer(["Step", "1:", "add", "\n", "2:", "done"])
    item = to_item([0, 1, 2, 3, 0, 4, 5], tokenizer=tok, split="step")
    assert item.steps == ["Step 1: add", "Step 2: done"]
    assert item.tokens == ["Step", " 1:", " add", " \n", " Step", " 2:", " done"]
    assert "".join(item.tokens) == "Step 1: add \n Step 2: done"
    assert item.step_token_counts == [4, 3]


# Token ids ------------------------------------------------------------------------------------


def test_token_ids_become_text_and_the_prompt_its_leading_ids() -> None:
    ids = TOK.encode("2+2=ab\nc")
    for output in (ids, torch.tensor(ids), torch.tensor([ids])):
        item = to_item(output, tokenizer=TOK, prompt_length=4)
        assert item.prompt == "2+2="
        assert item.steps == ["ab", "c"]
        assert item.step_token_counts == [3, 1]
        assert item.token_logprobs is None
        assert item.meta == {
            "split": "newline",
            "input": "ids",
            "prompt_tokens": 4,
            "output_tokens": 4,
        }
    assert to_item(ids, tokenizer=TOK, prompt="Q", prompt_length=4).prompt == "Q"


# Log-probs and entropies ----------------------------------------------------------------------


def test_uniform_logits_give_log_prob_minus_ln_v_and_entropy_ln_v() -> None:
    item = to_item(generated("2+2=", "4"), tokenizer=TOK)
    v = len(TOK)
    assert item.prompt == "2+2="
    assert item.steps == ["4"]
    assert item.token_logprobs is not None
    assert item.token_entropies is not None
    assert item.token_logprobs.dtype == torch.float32
    assert item.token_logprobs.tolist() == pytest.approx([-math.log(v)])
    assert item.token_entropies.tolist() == pytest.approx([math.log(v)])


def test_log_prob_and_entropy_of_a_hand_made_distribution() -> None:
    # p = [1/4, 1/4, 1/2, 0, 0, …]: log p(chosen=2) = ln 1/2; entropy = 1.5 ln 2.
    row = [0.0, 0.0, math.log(2.0)] + [-math.inf] * (len(TOK) - 3)
    out = generated("", "ba", scores=scores_for("ba", [row, [0.0] * len(TOK)]))
    item = to_item(out, tokenizer=TOK, prompt="p")
    assert item.token_logprobs is not None
    assert item.token_entropies is not None
    assert item.token_logprobs.tolist() == pytest.approx([-0.6931472, -math.log(len(TOK))])
    assert item.token_entropies.tolist() == pytest.approx([1.0397208, math.log(len(TOK))])


def test_raw_logits_are_preferred_to_processed_scores() -> None:
    v = len(TOK)
    peaked = [[0.0] * 2 + [math.log(v - 1.0)] + [0.0] * (v - 3)]
    out = generated("", "b", logits=scores_for("b", peaked))
    item = to_item(out, tokenizer=TOK)
    assert item.meta["scores_from"] == "logits"
    assert item.token_logprobs is not None
    assert item.token_logprobs.tolist() == pytest.approx([math.log(0.5)])


def test_half_precision_logits_are_scored_in_float32() -> None:
    out = generated("", "ab", scores=tuple(s.to(torch.bfloat16) for s in scores_for("ab")))
    item = to_item(out, tokenizer=TOK)
    assert item.meta["dtype"] == "torch.bfloat16"
    assert item.token_logprobs is not None
    assert item.token_logprobs.dtype == torch.float32
    assert item.token_logprobs.tolist() == pytest.approx([-math.log(len(TOK))] * 2)


def test_forward_pass_logits_score_each_token_from_the_position_before() -> None:
    ids = TOK.encode("qab")
    logits = torch.zeros(len(ids), len(TOK))
    logits[0, ids[1]] = 5.0  # predicts "a"
    logits[1, ids[2]] = 5.0  # predicts "b"
    item = to_item(logits, token_ids=ids, tokenizer=TOK)
    assert item.prompt == "q"
    assert item.steps == ["ab"]
    expected = -math.log1p((len(TOK) - 1) * math.exp(-5.0))
    assert item.token_logprobs is not None
    assert item.token_logprobs.tolist() == pytest.approx([expected, expected])
    batched = to_item(logits[None], token_ids=torch.tensor([ids]), tokenizer=TOK, prompt_length=2)
    assert batched.steps == ["b"]
    assert batched.token_logprobs is not None
    assert batched.token_logprobs.tolist() == pytest.approx([expected])


def test_logits_shorter_than_the_ids_score_the_last_ids() -> None:
    item = to_item(torch.zeros(2, len(TOK)), token_ids=TOK.encode("q=ab"), tokenizer=TOK)
    assert item.prompt == "q="
    assert item.steps == ["ab"]
    assert item.meta["prompt_tokens"] == 2


def test_only_one_dimensional_vectors_move_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[tuple[int, ...]] = []
    cpu = torch.Tensor.cpu

    def recording_cpu(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        moved.append(tuple(self.shape))
        return cpu(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "cpu", recording_cpu)
    out = generated("2+2=", "ab\ncd")
    item = to_item(out, tokenizer=TOK)
    assert item.step_token_counts == [3, 2]
    assert moved  # the results, flags and ids did move
    assert all(len(shape) == 1 for shape in moved), moved


def test_batches_need_an_index() -> None:
    out = GenerateDecoderOnlyOutput(
        sequences=torch.tensor([TOK.encode("qab"), TOK.encode("qcd")]),
        scores=tuple(torch.zeros(2, len(TOK)) for _ in range(2)),
    )
    with pytest.raises(ValueError, match=r"a batch of 2 sequences: pick one with index=0…1"):
        to_item(out, tokenizer=TOK)
    assert to_item(out, tokenizer=TOK, index=1).steps == ["cd"]
    with pytest.raises(ValueError, match="index 2 is outside the batch of 2"):
        to_item(out, tokenizer=TOK, index=2)


# Metadata -------------------------------------------------------------------------------------


def test_metadata_names_the_input_model_dtype_device_and_settings() -> None:
    model = TinyLM().to(torch.float64)
    item = to_item(generated("q", "ab"), tokenizer=TOK, model=model, meta={"temperature": 0.7})
    assert item.meta == {
        "split": "newline",
        "input": "generate",
        "scores_from": "scores",
        "prompt_tokens": 1,
        "output_tokens": 2,
        "dtype": "torch.float32",
        "device": "cpu",
        "vocab_size": len(TOK),
        "model": "tests.test_render.TinyLM",
        "model_dtype": "torch.float64",
        "model_device": "cpu",
        "temperature": 0.7,
    }


# Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_or_inf_logits_name_the_step_and_position(bad: float) -> None:
    rows = [[0.0] * len(TOK) for _ in range(3)]
    rows[1][7] = bad
    with pytest.raises(
        ValueError, match=r"logits at generation step 1 \(token position 3\) hold NaN or \+inf"
    ):
        to_item(generated("2+", "abc", scores=scores_for("abc", rows)), tokenizer=TOK)


def test_a_chosen_token_of_probability_zero_is_refused() -> None:
    row = [0.0] * len(TOK)
    row[TOK.encode("a")[0]] = -math.inf
    with pytest.raises(ValueError, match=r"chosen at generation step 0 \(token position 0\) has"):
        to_item(generated("", "a", scores=scores_for("a", [row])), tokenizer=TOK)


@pytest.mark.parametrize(
    ("output", "kwargs", "message"),
    [
        ("", {}, "the output is empty: it holds no text but whitespace"),
        (" \n\n ", {}, "the output is empty"),
        ([], {}, "the output is empty: an empty list"),
        (["", " "], {}, "the output is empty: every step is blank"),
        (torch.tensor([], dtype=torch.long), {"tokenizer": TOK}, "no tokens after the prompt"),
        (
            GenerateDecoderOnlyOutput(sequences=ids_of("ab"), scores=()),
            {"tokenizer": TOK},
            "generate returned no new tokens",
        ),
        (ids_of("ab"), {}, "token ids need a tokenizer"),
        (ids_of("ab"), {"tokenizer": CharTokenizer("\na")}, "token id 2 at position 1 does not"),
        (ids_of("ab"), {"tokenizer": TOK, "prompt_length": 3}, "prompt_length 3 does not fit 2"),
        (
            generated("", "abc", scores=scores_for("abcd")),
            {"tokenizer": TOK},
            "4 rows of logits but only 3 token ids",
        ),
        (
            generated("q", "ab"),
            {"tokenizer": TOK, "prompt_length": 2},
            "prompt_length is 2, but 3 ids with 2 scored tokens leave a prompt of 1",
        ),
        (
            generated("q", "ab", scores=(torch.zeros(len(TOK)),) * 2),
            {"tokenizer": TOK},
            r"scores\[0\] has shape \[43\]; expected \[batch, vocab\]",
        ),
        (
            generated("q", "ab", scores=(torch.zeros(1, 43), torch.zeros(1, 44))),
            {"tokenizer": TOK},
            r"differ in vocabulary size: \[43, 44\]",
        ),
        (
            generated("q", "zz", scores=(torch.zeros(1, 3),) * 2),
            {"tokenizer": TOK},
            "token id 26 is outside the logits' vocabulary of 3",
        ),
        (torch.zeros(3, 5), {"tokenizer": TOK}, "logits need their ids: pass token_ids"),
        (
            torch.zeros(3, 2, 4, 5),
            {"tokenizer": TOK, "token_ids": [1, 2, 3]},
            r"logits must be \[T, V\] or \[B, T, V\], not \[3, 2, 4, 5\]",
        ),
        (
            torch.zeros(2, len(TOK)),
            {"tokenizer": TOK, "token_ids": [1, 2], "prompt_length": 0},
            "cannot score the first token",
        ),
    ],
)
def test_bad_outputs_give_clear_errors(output: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_item(output, **kwargs)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (object(), "expected a string, a list of step strings, token ids, a generate output"),
        ([0.5, 1.5], "token ids must be integers, not torch.float32"),
        (torch.zeros(2, 3), "token_ids must be integers, not torch.float32"),
    ],
)
def test_outputs_of_no_known_kind_are_type_errors(output: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        to_item(output, tokenizer=TOK, token_ids=[0.0, 1.0])


# label() --------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    with lw.Store(tmp_path / "labels.db", annotator="tester") as opened:
        yield opened


def test_label_shows_steps_with_token_scores(sqlite_store: lw.Store) -> None:
    widget = label(generated("2+2=", "ab\nc"), tokenizer=TOK, store=sqlite_store)
    assert widget.prompt == "2+2="
    assert widget.steps == ["ab", "c"]
    assert unpack_strings(widget.tokens) == ["a", "b", "\n", "c"]
    assert widget.step_token_counts == [3, 1]
    assert widget.score_kind == "logprob"
    assert unpack_float32(widget.token_scores) == pytest.approx([-math.log(len(TOK))] * 4)
    [stored] = sqlite_store.items()
    assert stored["steps"] == ["ab", "c"]
    assert stored["meta"]["input"] == "generate"


def test_label_can_show_entropies_and_plain_text(sqlite_store: lw.Store) -> None:
    widget = label(generated("", "ab"), tokenizer=TOK, store=sqlite_store, score="entropy")
    assert widget.score_kind == "entropy"
    assert unpack_float32(widget.token_scores) == pytest.approx([math.log(len(TOK))] * 2)
    plain = label("x\ny", prompt="q", store=sqlite_store, dataset="d", source="me")
    assert plain.steps == ["x", "y"]
    assert plain.tokens == {}
    with pytest.raises(ValueError, match="score must be 'logprob' or 'entropy'"):
        label("x", store=sqlite_store, score="prob")


def test_label_opens_labels_db_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    widget = label("a\nb", prompt="q")
    widget.store.close()
    assert (tmp_path / "labels.db").exists()


def test_label_keeps_the_scores_it_shows_and_says_what_they_are(sqlite_store: lw.Store) -> None:
    out = generated("2+2=", "ab\nc", logits=scores_for("ab\nc"))
    widget = label(out, tokenizer=TOK, store=sqlite_store, score="entropy")
    assert widget.score_about == (
        "entropy of the distribution at each token under the model's raw logits "
        "(output_logits=True: before temperature, top-k, top-p)"
    )
    kept = sqlite_store.token_scores(widget.item_id)
    assert kept is not None
    assert kept["kind"] == "entropy"
    assert kept["meta"]["distribution"] == "raw"
    assert struct.pack(f"<{len(kept['scores'])}f", *kept["scores"]) == widget.token_scores["view"]
    # The same output's text, labeled later, shows the heatmap that was kept with it.
    again = label("ab\nc", prompt="2+2=", store=sqlite_store)
    assert again.item_id == widget.item_id
    assert again.token_scores == widget.token_scores
    assert (again.tokens, again.step_token_counts) == (widget.tokens, [3, 1])
    assert (again.score_kind, again.score_about) == ("entropy", widget.score_about)
    # Scores computed now are shown as computed, even where others were kept first.
    logprobs = label(out, tokenizer=TOK, store=sqlite_store)
    assert logprobs.score_kind == "logprob"
    assert unpack_float32(logprobs.token_scores) == pytest.approx([-math.log(len(TOK))] * 4)
    assert sqlite_store.token_scores(widget.item_id)["kind"] == "entropy"  # type: ignore[index]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_broken_logits_are_named_before_their_missing_ids(
    sqlite_store: lw.Store, bad: float
) -> None:
    with pytest.raises(ValueError, match=r"^the logits hold NaN or \+inf \(first at index \[0\]\)"):
        label(torch.tensor([bad]), store=sqlite_store)
    logits = torch.zeros(3, 5)
    logits[2, 4] = bad
    with pytest.raises(ValueError, match=r"first at index \[2, 4\].*as token_ids=…"):
        label(logits, store=sqlite_store)
    assert sqlite_store.items() == []


@pytest.mark.parametrize(
    ("output", "kwargs", "message"),
    [
        ("a", {"prompt": None}, "the prompt must be a string .*, not None"),
        ("a", {"prompt": 3}, "the prompt must be a string .*, not 3"),
        (["a", 3, None], {}, "step 1 is 3: a list of steps holds only strings"),
    ],
)
def test_a_prompt_or_steps_of_the_wrong_type_are_named(
    sqlite_store: lw.Store, output: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        label(output, store=sqlite_store, **kwargs)
    assert sqlite_store.items() == []
