"""Tiny PRMs and tokenizers built here, and a store whose step labels a PRM can learn in seconds."""

from __future__ import annotations

import random
from typing import Any

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from torch import nn

import labwidget as lw
from labwidget.formats.qwen import SYSTEM

WORDS = ["two", "plus", "three", "is", "five", "so", "the", "answer", "seven", "check", "x", "y"]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tokenizer(*, chat: bool = False) -> Any:
    """A byte-level BPE trained here; ``chat`` adds Qwen's ChatML template and ``<extra_0>``."""
    rng = random.Random(0)
    text = [" ".join(rng.choice([*WORDS, "wrong"]) for _ in range(12)) + "\n" for _ in range(300)]
    text += [f"{SYSTEM}\nsystem user assistant check 0 1 2 3 4 5 6"] * 20
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<s>", "</s>"]
    if chat:
        specials += ["<|im_start|>", "<|im_end|>", "<extra_0>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(text, trainer)
    if chat:  # Qwen's tokenizer has no BOS, and a chat template
        tok = transformers.PreTrainedTokenizerFast(
            tokenizer_object=core, pad_token="<pad>", eos_token="<|im_end|>"
        )
        tok.chat_template = CHATML
        return tok
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", eos_token="</s>", bos_token="<s>"
    )


def config(tok: Any, **extra: Any) -> transformers.Qwen2Config:
    settings: dict[str, Any] = {
        "vocab_size": len(tok),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 256,
        "pad_token_id": tok.pad_token_id,
    }
    return transformers.Qwen2Config(**{**settings, **extra})


def token_classifier(tok: Any, seed: int = 0) -> Any:
    """An ``AutoModelForTokenClassification`` with 2 labels: TRL's PRM layout."""
    torch.manual_seed(seed)
    return transformers.AutoModelForTokenClassification.from_config(config(tok, num_labels=2))


class TinyQwenPRM(transformers.Qwen2PreTrainedModel):  # type: ignore[misc]
    """Qwen2.5-Math-PRM's shape, tiny: a Qwen2 body and a Linear-ReLU-Linear 2-class head.

    Like ``Qwen2ForProcessRewardModel`` (vLLM's ``qwen2_rm.py`` mirrors the model card's
    remote code), its forward takes no labels and computes no loss.
    """

    def __init__(self, configuration: transformers.Qwen2Config) -> None:
        super().__init__(configuration)
        width = configuration.hidden_size
        self.model = transformers.Qwen2Model(configuration)
        self.score = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2))
        self.post_init()
        for layer in self.score[::2]:  # PyTorch's own init: learns in seconds from scratch
            layer.reset_parameters()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any
    ) -> transformers.modeling_outputs.TokenClassifierOutput:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return transformers.modeling_outputs.TokenClassifierOutput(logits=self.score(hidden))


def qwen_prm(tok: Any, seed: int = 0) -> TinyQwenPRM:
    torch.manual_seed(seed)
    return TinyQwenPRM(config(tok))


def fill(store: lw.Store, n: int = 60, seed: int = 0) -> list[str]:
    """``n`` items of 1-3 steps, wrong exactly when they end in "wrong"; returns the ids."""
    rng = random.Random(seed)
    ids = []
    with store.batch() as batch:
        for i in range(n):
            steps, ratings = [], []
            for _ in range(rng.randint(1, 3)):
                wrong = rng.random() < 0.4
                words = [rng.choice(WORDS) for _ in range(3)]
                if wrong:
                    words.append("wrong")
                steps.append(" ".join(words))
                ratings.append(-1 if wrong else 1)
            item = batch.add_item(f"check {i % 7}", steps, dataset="even" if i % 2 else "odd")
            for step, value in enumerate(ratings):
                batch.record("rating", item=item, step=step, value=value, source="auto:rule")
            ids.append(item)
    return ids


def arguments(tmp: Any, **extra: Any) -> transformers.TrainingArguments:
    settings: dict[str, Any] = {
        "output_dir": str(tmp),
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "learning_rate": 3e-3,
        "num_train_epochs": 6,
        "logging_steps": 1,
        "report_to": "none",
        "save_strategy": "no",
        "use_cpu": True,
        "seed": 0,
        "disable_tqdm": True,
        **extra,
    }
    return transformers.TrainingArguments(**settings)
