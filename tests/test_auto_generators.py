"""Rollout generators: a real (tiny) transformers model through ``generators.hf``, and the real
``openai`` client against OpenAI-compatible servers on 127.0.0.1."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

import labwidget as lw
from labwidget.auto import AutolabelError, Prefix
from tests.auto_support import add_solutions, chat_servers, solution

WORDS = ["<pad>", "<eos>", "sum", "+", "=", "The", "answer", "is", "\n", *map(str, range(40))]


def tiny_lm() -> tuple[GPT2LMHeadModel, PreTrainedTokenizerFast]:
    """A randomly initialised two-layer GPT-2 over a word-level vocabulary of sums."""
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", "removed"), pre_tokenizers.Split("\n", "isolated")]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<eos>")
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(WORDS), n_positions=64, n_embd=32, n_layer=2, n_head=2,
        pad_token_id=0, eos_token_id=1, bos_token_id=1,
    )  # fmt: skip
    return GPT2LMHeadModel(config).eval(), tokenizer


PROMPTS = [
    Prefix("sum 1 + 2 + 3", ["1 + 2 = 3"]),
    Prefix("sum 4 + 5 + 6 + 7 + 8", ["4 + 5 = 9", "9 + 6 = 15", "15 + 7 = 22"]),
    Prefix("sum 3 + 3", []),
]


def test_hf_batches_with_left_padding_exactly_as_one_prompt_at_a_time() -> None:
    model, tokenizer = tiny_lm()
    generate = lw.generators.hf(model, tokenizer, do_sample=False, max_new_tokens=5)
    batched = generate(list(PROMPTS), 1)
    alone = [generate([p], 1)[0] for p in PROMPTS]
    assert batched == alone
    assert all(len(texts) == 1 and texts[0] for texts in batched)
    assert str(generate) == "hf:GPT2LMHeadModel"
    # Right padding would put pads between a short prompt and its continuation: it differs.
    encoded = tokenizer([str(p) for p in PROMPTS], return_tensors="pt", padding=True)
    out = model.generate(**encoded, do_sample=False, max_new_tokens=5, pad_token_id=0)
    right = tokenizer.batch_decode(
        out[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True
    )
    assert right != [texts[0] for texts in batched]


def test_hf_samples_n_completions_per_prompt_in_batches() -> None:
    model, tokenizer = tiny_lm()
    generate = lw.generators.hf(model, tokenizer, batch_size=2, max_new_tokens=4)
    torch.manual_seed(1)
    first = generate(list(PROMPTS), 3)
    torch.manual_seed(1)
    again = generate(list(PROMPTS), 3)
    assert [len(texts) for texts in first] == [3, 3, 3]
    assert first == again
    assert len({t for texts in first for t in texts}) > 3


def test_hf_without_a_pad_token_says_how_to_set_one() -> None:
    model, tokenizer = tiny_lm()
    tokenizer.pad_token = None
    with pytest.raises(ValueError, match=r"tokenizer\.pad_token = tokenizer\.eos_token"):
        lw.generators.hf(model, tokenizer)


def test_openai_chat_continues_the_assistant_message_with_n_choices_and_seed() -> None:
    with chat_servers(1) as (server,):
        generate = lw.generators.openai_compatible(server.url, "policy", max_tokens=64)
        out = generate([PROMPTS[0], "plain question"], 2)
    assert out == [
        ["s0:1 + 2 = 3\n[0]", "s0:1 + 2 = 3\n[1]"],
        ["s0:plain question[0]", "s0:plain question[1]"],
    ]
    by_content = {r["messages"][-1]["content"]: r for r in server.requests}
    continued = by_content["1 + 2 = 3\n"]
    assert continued["path"] == "/v1/chat/completions"
    assert continued["messages"] == [
        {"role": "user", "content": "sum 1 + 2 + 3"},
        {"role": "assistant", "content": "1 + 2 = 3\n"},
    ]
    assert continued["continue_final_message"] is True
    assert continued["add_generation_prompt"] is False
    assert (continued["n"], continued["seed"], continued["max_tokens"]) == (2, 0, 64)
    assert continued["model"] == "policy"
    plain = by_content["plain question"]
    assert plain["messages"] == [{"role": "user", "content": "plain question"}]
    assert "continue_final_message" not in plain
    assert "seed" not in plain


def test_openai_completions_send_the_raw_prompt_text() -> None:
    with chat_servers(1) as (server,):
        generate = lw.generators.openai_compatible(server.url, "policy", chat=False, top_p=0.9)
        out = generate([PROMPTS[0]], 1)
    assert out == [["s0:sum 1 + 2 + 3\n1 + 2 = 3\n[0]"]]
    (request,) = server.requests
    assert request["path"] == "/v1/completions"
    assert (request["prompt"], request["top_p"]) == ("sum 1 + 2 + 3\n1 + 2 = 3\n", 0.9)
    assert "continue_final_message" not in request


def test_openai_spreads_requests_over_servers_with_bounded_concurrency() -> None:
    prompts: list[str] = [Prefix(f"sum {k} + 1", [f"{k} + 1 = {k + 1}"], seed=k) for k in range(12)]
    with chat_servers(2, delay_s=0.2) as servers:
        generate = lw.generators.openai_compatible(
            [s.url for s in servers], "policy", max_concurrency=2
        )
        out = generate(prompts, 1)
    # In order, whichever server answered each.
    assert [texts[0].split(":", 1)[1] for texts in out] == [
        f"{k} + 1 = {k + 1}\n[0]" for k in range(12)
    ]
    assert all(len(s.requests) >= 2 for s in servers)
    assert sum(len(s.requests) for s in servers) == 12
    assert max(s.most_in_flight for s in servers) == 2
    for server in servers:
        answered = {t[0] for t in out if t[0].startswith(f"{server.name}:")}
        asked = {f"{server.name}:{r['messages'][-1]['content']}[0]" for r in server.requests}
        assert answered == asked


def test_openai_generator_survives_pickling_for_ray_workers() -> None:
    with chat_servers(1) as (server,):
        generate = lw.generators.openai_compatible(server.url, "policy", max_retries=0)
        copy = pickle.loads(pickle.dumps(generate))
        assert copy([PROMPTS[0]], 1) == [["s0:1 + 2 = 3\n[0]"]]
        assert str(copy) == "openai:policy"


def test_autolabel_through_an_openai_server_and_its_errors(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    import random

    (item,) = add_solutions(store, [solution(random.Random(3), 3, 0.0)])

    def checker(item: dict[str, Any], completion: str) -> bool:
        return completion.endswith("[1]") or completion == "\n".join(item["steps"])

    with chat_servers(1) as (server,):
        generate = lw.generators.openai_compatible(server.url, "policy", max_retries=0)
        summary = lw.autolabel(store, generator=generate, checker=checker, n=2, progress=False)
        assert (summary.done, summary.rollouts) == (1, 4)
        assert [e["meta"]["successes"] for e in store.labels() if not e["meta"].get("direct")] == [
            1,
            1,
        ]
        assert store.labels()[0]["meta"]["generator"] == "openai:policy"
        server.fail_with = 500
        with pytest.raises(AutolabelError, match=f"item {item} step 0 .*InternalServerError"):
            lw.autolabel(store, generator=generate, checker=checker, n=2, seed=1, progress=False)
