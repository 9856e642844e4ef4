"""capture() records sampled outputs into the store without touching results or leaving hooks."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import labwidget as lw
from labwidget.capture import capture
from labwidget.render import to_item
from labwidget.widgets._buffers import unpack_strings
from tests.test_render import TOK, TinyLM


@pytest.fixture
def store(tmp_path: Path) -> Iterator[lw.Store]:
    with lw.Store(tmp_path / "labels.db", annotator="tester") as opened:
        yield opened


PROMPTS = ["2+2=", "3+4=", "5+6=", "7+8=", "9+1=", "1+2="]


def prompt_ids(i: int) -> torch.Tensor:
    return torch.tensor([TOK.encode(PROMPTS[i % len(PROMPTS)])])


def run_generate(model: TinyLM, i: int) -> Any:
    return model.generate(
        prompt_ids(i), max_new_tokens=6, output_scores=True, return_dict_in_generate=True
    )


def assert_unhooked(model: TinyLM) -> None:
    assert "generate" not in model.__dict__
    assert model.generate.__func__ is TinyLM.generate  # type: ignore[attr-defined]
    assert not model._forward_hooks
    assert not model._forward_pre_hooks


def test_every_nth_generate_output_is_recorded(store: lw.Store) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store, every=2) as seen:
        for i in range(5):
            run_generate(model, i)
    assert (seen.seen, seen.recorded, seen.skipped, seen.failed) == (5, 3, 2, 0)
    items = store.items()
    assert sorted(item["prompt"] for item in items) == sorted([PROMPTS[0], PROMPTS[2], PROMPTS[4]])
    meta = items[0]["meta"]
    assert items[0]["dataset"] == "captured"
    assert items[0]["source"] == "capture"
    assert meta["model"] == "tests.test_render.TinyLM"
    assert meta["model_dtype"] == "torch.float32"
    assert meta["max_new_tokens"] == 6
    assert meta["return_dict_in_generate"] is True
    assert meta["output_tokens"] == 6
    first = run_generate(TinyLM(), 0)
    text = TOK.decode(first.sequences[0, 4:].tolist())
    recorded = next(item for item in items if item["prompt"] == PROMPTS[0])
    assert "\n".join(recorded["steps"]) == "\n".join(
        line.strip() for line in text.split("\n") if line.strip()
    )


def test_sampling_is_seeded_bernoulli(store: lw.Store) -> None:
    model = TinyLM()
    draws = random.Random(7)
    expected = sum(draws.random() < 0.3 for _ in range(40))
    with capture(model, tokenizer=TOK, store=store, sample=0.3, seed=7) as seen:
        for i in range(40):
            model.generate(prompt_ids(i), max_new_tokens=2)
    assert seen.seen == 40
    assert seen.recorded == expected
    assert seen.skipped == 40 - expected
    assert 0 < expected < 40


def test_results_are_the_very_objects_generate_returned(store: lw.Store) -> None:
    plain = TinyLM()
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store):
        out = run_generate(model, 0)
        assert out is model.returned
        bare = model.generate(prompt_ids(1))
        assert bare is model.returned
    assert torch.equal(out.sequences, run_generate(plain, 0).sequences)
    again = run_generate(plain, 0).scores
    assert all(torch.equal(a, b) for a, b in zip(out.scores, again, strict=True))
    assert torch.equal(bare, plain.generate(prompt_ids(1)))


def test_a_bare_tensor_output_is_split_at_the_prompt(store: lw.Store) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store) as seen:
        out = model.generate(prompt_ids(0), max_new_tokens=5)
    [item] = store.items()
    assert seen.recorded == 1
    assert item["prompt"] == PROMPTS[0]
    assert item["meta"]["prompt_tokens"] == 4
    assert item["meta"]["input"] == "ids"
    assert TOK.decode(out[0, 4:].tolist()).strip().startswith(item["steps"][0])


def test_hooks_are_removed_on_exit_and_on_exception(store: lw.Store) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store, forward=True):
        assert "generate" in model.__dict__
        assert model._forward_hooks
    assert_unhooked(model)

    def crash_in_the_loop() -> None:
        with capture(model, tokenizer=TOK, store=store, forward=True):
            run_generate(model, 0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        crash_in_the_loop()
    assert_unhooked(model)
    model(prompt_ids(0))
    run_generate(model, 1)
    assert len(store.items()) == 1


def test_an_instance_generate_is_restored(store: lw.Store) -> None:
    model = TinyLM()

    def own_generate(*args: Any, **kwargs: Any) -> Any:
        return TinyLM.generate(model, *args, **kwargs)

    model.__dict__["generate"] = own_generate
    with capture(model, tokenizer=TOK, store=store) as seen:
        run_generate(model, 0)
    assert seen.recorded == 1
    assert model.__dict__["generate"] is own_generate


def test_forward_passes_are_recorded_but_not_those_inside_generate(store: lw.Store) -> None:
    model = TinyLM()
    ids = torch.tensor([TOK.encode("q: ab\ncd")])
    with capture(model, tokenizer=TOK, store=store, forward=True) as seen:
        logits = model(ids)
        run_generate(model, 0)  # six forward passes inside, counted as one generate output
    assert seen.seen == 2
    assert seen.recorded == 2
    assert torch.equal(logits, TinyLM()(ids))
    forward = next(item for item in store.items() if item["meta"].get("capture") == "forward")
    assert forward["prompt"] == "q"
    assert forward["steps"] == [": ab", "cd"]
    assert forward["meta"]["input"] == "logits"


def test_forward_capture_keeps_gradients_flowing(store: lw.Store) -> None:
    model = TinyLM()
    ids = torch.tensor([TOK.encode("q: ab")])
    with capture(model, tokenizer=TOK, store=store, forward=True):
        loss = model(ids).logsumexp(-1).mean()
        loss.backward()
    assert model.head.weight.grad is not None
    assert len(store.items()) == 1


def test_filter_picks_items_and_prompt_from_names_them(store: lw.Store) -> None:
    model = TinyLM()
    with capture(
        model,
        tokenizer=TOK,
        store=store,
        filter=lambda item: item.prompt.startswith("Q3"),
        prompt_from=lambda args, kwargs: f"Q{int(args[0][0, 0])}",
        dataset="debug",
    ) as seen:
        for i in range(4):
            model.generate(torch.tensor([[3 + i % 2, 5]]), max_new_tokens=3)
    assert (seen.seen, seen.recorded, seen.skipped) == (4, 2, 2)
    assert {item["prompt"] for item in store.items(dataset="debug")} == {"Q3"}


def test_a_batch_records_each_sequence(store: lw.Store) -> None:
    model = TinyLM()
    batch = torch.cat([prompt_ids(0), prompt_ids(1)])
    with capture(model, tokenizer=TOK, store=store) as seen:
        model.generate(batch, max_new_tokens=4, output_scores=True, return_dict_in_generate=True)
    assert seen.recorded == 2
    assert sorted(item["prompt"] for item in store.items()) == sorted(PROMPTS[:2])


def test_recording_errors_are_logged_not_raised(
    store: lw.Store, caplog: pytest.LogCaptureFixture
) -> None:
    model = TinyLM()
    with (
        caplog.at_level(logging.WARNING, logger="labwidget.capture"),
        capture(model, store=store) as seen,  # no tokenizer: ids cannot become text
    ):
        out = run_generate(model, 0)
    assert out is model.returned
    assert (seen.seen, seen.recorded, seen.failed) == (1, 0, 1)
    assert seen.errors == [
        "ValueError: token ids need a tokenizer to become text: pass tokenizer=…"
    ]
    assert "could not record an output: ValueError: token ids need a tokenizer" in caplog.text
    assert store.items() == []


def test_a_failing_store_does_not_stop_the_loop(
    store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise lw.StoreError("disk full")

    monkeypatch.setattr(store, "batch", broken)
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store) as seen:
        run_generate(model, 0)
        run_generate(model, 1)
    assert seen.failed == 2
    assert seen.errors[-1] == "StoreError: disk full"
    assert repr(seen) == "Capture(seen=2, recorded=0, skipped=0, failed=2)"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"every": 2, "sample": 0.1}, TypeError, "every=N or sample=p, not both"),
        ({"every": 0}, ValueError, "every must be a whole number >= 1"),
        ({"sample": 1.5}, ValueError, r"sample must be a probability in \[0, 1\]"),
    ],
)
def test_bad_sampling_options_are_refused(
    store: lw.Store, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    model = TinyLM()
    with pytest.raises(error, match=message):
        capture(model, tokenizer=TOK, store=store, **kwargs)
    assert_unhooked(model)


def test_a_model_without_generate_needs_forward_capture(store: lw.Store) -> None:
    scorer = torch.nn.Linear(3, 3)
    with pytest.raises(TypeError, match="Linear has no generate method: capture its forward"):
        capture(scorer, store=store).__enter__()
    with capture(scorer, store=store, forward=True) as seen:
        scorer(torch.zeros(3))
    assert (seen.seen, seen.failed) == (1, 1)
    assert seen.errors == ["TypeError: token_ids must be integers, not torch.float32"]
    assert not scorer._forward_hooks


def float32_bits(values: Any) -> bytes:
    """The exact float32 bits of a tensor or a list of floats (0.0 and -0.0 differ)."""
    return torch.as_tensor(values, dtype=torch.float32).numpy().tobytes()


@pytest.mark.parametrize(
    ("fields", "distribution", "about"),
    [
        ({"output_scores": True}, "sampling", "log-prob of each token under the sampling"),
        ({"output_logits": True}, "raw", "log-prob of each token under the model's raw logits"),
    ],
)
def test_a_captured_item_keeps_its_token_scores_and_reopens_with_its_heatmap(
    store: lw.Store, fields: dict[str, bool], distribution: str, about: str
) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store):
        out = model.generate(
            prompt_ids(0), max_new_tokens=6, return_dict_in_generate=True, **fields
        )
    item = to_item(out, tokenizer=TOK)
    assert item.token_logprobs is not None
    [stored] = store.items()
    kept = store.token_scores(stored["id"])
    assert kept is not None
    assert float32_bits(kept["scores"]) == float32_bits(item.token_logprobs)
    assert (kept["kind"], kept["tokens"], kept["step_token_counts"]) == (
        "logprob",
        item.tokens,
        item.step_token_counts,
    )
    assert kept["meta"]["distribution"] == distribution
    assert kept["meta"]["about"].startswith(about)
    # Days later: the queue shows the very float32 values, and says what they are.
    reopened = lw.StepLabeler(store=store, queue=[stored["id"]])
    assert reopened.token_scores["view"] == float32_bits(item.token_logprobs)
    assert unpack_strings(reopened.tokens) == item.tokens
    assert reopened.step_token_counts == item.step_token_counts
    assert (reopened.score_kind, reopened.score_about) == ("logprob", kept["meta"]["about"])


def test_forward_passes_keep_scores_under_their_raw_logits(store: lw.Store) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store, forward=True):
        model(torch.tensor([TOK.encode("q: ab\ncd")]))
    [stored] = store.items()
    kept = store.token_scores(stored["id"])
    assert kept is not None
    assert kept["meta"] == {
        "distribution": "forward",
        "about": "log-prob of each token under the raw logits of a forward pass",
    }
    assert len(kept["scores"]) == sum(kept["step_token_counts"]) == 7


def test_an_output_without_logits_keeps_no_token_scores(store: lw.Store) -> None:
    model = TinyLM()
    with capture(model, tokenizer=TOK, store=store):
        model.generate(prompt_ids(0), max_new_tokens=5)
    [stored] = store.items()
    assert store.token_scores(stored["id"]) is None
    assert lw.StepLabeler(store=store, queue=[stored["id"]]).tokens == {}
