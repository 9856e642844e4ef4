"""torch datasets over a store: process-reward (stepwise) and preference training feeds.

``StepDataset`` tokenizes exactly as TRL 1.13's ``PRMTrainer.tokenize_row`` and
``PreferenceDataset`` as TRL's ``RewardTrainer``; ``follow`` streams labels as they land.

A ``StepDataset`` holds no labels in memory, only an index: one (item, annotator) key per
labeling and two small integer arrays that map each example to its labeling and branch. An
example is read from the store when asked for (``__getitems__`` reads a whole DataLoader batch
in one query), so a store of millions of labels costs a few bytes per example, any sampler
(``DistributedSampler`` included) can shuffle it, and each DataLoader worker opens its own
connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
import sqlalchemy as sa
import torch.utils.data

from labwidget._collate import PreferenceCollator, StepCollator
from labwidget._follow import follow
from labwidget.formats._labelings import Labeling
from labwidget.formats.trl import NEUTRAL, branches, preference
from labwidget.store import Store
from labwidget.store._queries import event_dict, item_dicts
from labwidget.store.schema import items, label_events

__all__ = [
    "PreferenceCollator",
    "PreferenceDataset",
    "StepCollator",
    "StepDataset",
    "encode_steps",
    "follow",
]

CHUNK = 256  # labelings read from the store in one query
CACHE = 4_096  # labelings whose encoded examples are kept for the next lookups


def encode_steps(
    rows: Sequence[dict[str, Any]],
    tokenizer: Any,
    *,
    step_separator: str = "\n",
    max_length: int | None = 1024,
    max_completion_length: int | None = None,
    train_on_last_step_only: bool = False,
    is_eval: bool = False,
) -> list[dict[str, list[int]]]:
    r"""Tokenize stepwise rows exactly as TRL 1.13's ``PRMTrainer.tokenize_row``, in one batch.

    BOS (when the tokenizer has one), the prompt, then each step followed by the separator; the
    label sits on the last separator token of each step, -100 elsewhere.

    >>> from transformers import PreTrainedTokenizerFast
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> vocab = {"<s>": 0, "2+2": 1, "is": 2, "4": 3, "\n": 4}
    >>> core = Tokenizer(models.WordLevel(vocab, unk_token="<s>"))
    >>> core.pre_tokenizer = pre_tokenizers.Split("\n", "isolated")
    >>> tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>")
    >>> encode_steps([{"prompt": "2+2", "completions": ["is", "4"], "labels": [True, False]}], tok)
    [{'input_ids': [0, 1, 2, 4, 3, 4], 'labels': [-100, -100, -100, 1, -100, 0]}]
    """
    separator = tokenizer.encode(step_separator, add_special_tokens=False)
    bos = tokenizer.bos_token_id
    texts = list(chain.from_iterable([row["prompt"], *row["completions"]] for row in rows))
    ids = iter(_token_ids(tokenizer, texts))
    out = []
    for row in rows:
        prompt = next(ids)
        steps = [next(ids) for _ in row["completions"]]
        labels = [int(label) for label in row["labels"]]
        if train_on_last_step_only and not is_eval:
            labels = [-100] * (len(labels) - 1) + labels[-1:]
        if len(labels) != len(steps):
            raise ValueError(f"a row has {len(steps)} steps but {len(labels)} labels")
        completion: list[int] = []
        marks: list[int] = []
        for step, label in zip(steps, labels, strict=True):
            completion += step + separator
            marks += [-100] * (len(step) + len(separator) - 1) + [label]
        head = [bos, *prompt] if bos is not None else prompt
        if max_completion_length is not None:
            completion, marks = completion[:max_completion_length], marks[:max_completion_length]
        input_ids, row_labels = head + completion, [-100] * len(head) + marks
        if max_length is not None:
            input_ids, row_labels = input_ids[:max_length], row_labels[:max_length]
        out.append({"input_ids": input_ids, "labels": row_labels})
    return out


def _token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """``tokenizer(texts, add_special_tokens=False)["input_ids"]``, faster on a fast tokenizer."""
    if not texts:
        return []
    if getattr(tokenizer, "is_fast", False):
        # The Rust tokenizer itself: the same ids without building a BatchEncoding.
        encoded = tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return [e.ids for e in encoded]
    ids: list[list[int]] = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return ids


def _pad_id(tokenizer: Any) -> int:
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("the tokenizer has no pad or EOS token: set tokenizer.pad_token first")


class _StoreHandle:
    """A store that reopens itself in each process (DataLoader workers fork or spawn)."""

    def __init__(self, store: Store) -> None:
        self._target = store.url.render_as_string(hide_password=False)
        self._annotator = store.annotator
        self._store: Store | None = store
        self._pid = os.getpid()

    def get(self) -> Store:
        if self._store is None or self._pid != os.getpid():
            if self._store is not None:
                # A forked child must leave the parent's connections alone, not close them.
                self._store._engine.dispose(close=False)
            self._store = Store(self._target, annotator=self._annotator)
            self._pid = os.getpid()
        return self._store

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_store": None}


class StepDataset(torch.utils.data.Dataset[dict[str, list[int]]]):
    r"""Stepwise examples ``{input_ids, labels}`` for a process reward model, read from a store.

    The rows are those ``labwidget.formats.trl.stepwise`` exports (PRM800K branches, the
    ``neutral`` policy), tokenized as TRL 1.13's ``PRMTrainer`` does; see ``encode_steps``.

    Args:
        store: the store to read.
        tokenizer: a Hugging Face tokenizer.
        neutral: what a 0 rating becomes: ``"false"``, ``"true"`` or ``"drop"`` the row.
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source: ``"human"``, ``"model"`` or ``"auto"`` (any
            name after the colon), or an exact one such as ``"model:judge-7b"``.
        min_agreement: use an annotator's labels on an item only if each of their ratings is
            shared by at least this fraction of the annotators who rated that step.
        since: only label events recorded at or after this time.
        until: only label events recorded before this time.
        step_separator: appended after every step (TRL's default ``"\\n"``).
        max_length: right-truncate each example to this many tokens (TRL's default 1024).
        max_completion_length: truncate the steps to this many tokens first.
        train_on_last_step_only: keep only the last step's label (unless ``is_eval``).
        is_eval: this is an evaluation set (see ``train_on_last_step_only``).
    """

    def __init__(
        self,
        store: Store,
        tokenizer: Any,
        *,
        neutral: str = "false",
        dataset: str | None = None,
        annotator: str | None = None,
        source: str | None = None,
        min_agreement: float | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        step_separator: str = "\n",
        max_length: int | None = 1024,
        max_completion_length: int | None = None,
        train_on_last_step_only: bool = False,
        is_eval: bool = False,
    ) -> None:
        if neutral not in NEUTRAL:
            raise ValueError(f"neutral is one of {', '.join(NEUTRAL)}, not {neutral!r}")
        self.tokenizer = tokenizer
        self.neutral = neutral
        self.min_agreement = min_agreement
        self.annotator = annotator
        self.encoding = {
            "step_separator": step_separator,
            "max_length": max_length,
            "max_completion_length": max_completion_length,
            "train_on_last_step_only": train_on_last_step_only,
            "is_eval": is_eval,
        }
        self._where = _event_filter(source, since, until)
        self._dataset = dataset
        self._handle = _StoreHandle(store)
        self._keys = self._labeling_keys()
        counts = np.zeros(len(self._keys), dtype=np.int32)
        for start in range(0, len(self._keys), CHUNK):
            found = self._read(range(start, min(start + CHUNK, len(self._keys))))
            for k, rows in found.items():
                counts[k] = len(rows)
        self._row_key = np.repeat(np.arange(len(self._keys), dtype=np.int32), counts)
        starts = np.cumsum(counts) - counts
        self._row_branch = np.arange(len(self._row_key), dtype=np.int32) - np.repeat(starts, counts)
        self._cache: dict[int, list[dict[str, list[int]]]] = {}
        self.collate = StepCollator(pad_token_id=_pad_id(tokenizer))

    def __len__(self) -> int:
        return len(self._row_key)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, list[int]]]:
        """Many examples at once: one store query and one tokenizer call for all of them."""
        wanted = [int(self._row_key[i]) for i in indices]
        missing = sorted({k for k in wanted if k not in self._cache})
        if missing:
            if len(self._cache) + len(missing) > CACHE:
                self._cache.clear()
            found = self._read(missing)
            flat = [(k, row) for k in missing for row in found.get(k, [])]
            encoded = iter(self.encode([row for _, row in flat]))
            for k in missing:
                self._cache[k] = [next(encoded) for _ in found.get(k, [])]
        return [self._cache[int(self._row_key[i])][int(self._row_branch[i])] for i in indices]

    def encode(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, list[int]]]:
        """Tokenize text rows ``{prompt, completions, labels}`` with this dataset's settings."""
        return encode_steps(rows, self.tokenizer, **self.encoding)  # type: ignore[arg-type]

    def rows(self) -> Iterator[dict[str, Any]]:
        """The text rows ``{prompt, completions, labels}`` in example order, read in chunks."""
        for start in range(0, len(self._keys), CHUNK):
            chunk = range(start, min(start + CHUNK, len(self._keys)))
            found = self._read(chunk)
            for k in chunk:
                yield from found.get(k, [])

    def _labeling_keys(self) -> list[tuple[str, str]]:
        """(item, annotator) per labeling, in the order ``formats.trl.stepwise`` uses."""
        first = sa.func.min(label_events.c.seq)
        query = (
            sa.select(label_events.c.item_id, label_events.c.annotator)
            .join(items, items.c.id == label_events.c.item_id)
            .where(self._where)
            .group_by(label_events.c.item_id, label_events.c.annotator, items.c.created_at)
            .order_by(items.c.created_at, label_events.c.item_id, first)
        )
        if self.annotator is not None:
            query = query.where(label_events.c.annotator == self.annotator)
        if self._dataset is not None:
            query = query.where(items.c.dataset == self._dataset)
        with self._handle.get()._read() as connection:
            return [(row.item_id, row.annotator) for row in connection.execute(query)]

    def _read(self, keys: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The text rows of each labeling in ``keys`` (by position in the index)."""
        item_ids = sorted({self._keys[k][0] for k in keys})
        events = sa.select(label_events).where(self._where, label_events.c.item_id.in_(item_ids))
        with self._handle.get()._read() as connection:
            found = {d["id"]: d for d in item_dicts(connection, items.c.id.in_(item_ids))}
            rows = connection.execute(events.order_by(label_events.c.seq)).all()
        folded: dict[tuple[str, str], Labeling] = {}
        for row in rows:
            event = event_dict(row)
            key = (event["item"], event["annotator"])
            if key not in folded:
                folded[key] = Labeling(item=found[event["item"]], annotator=event["annotator"])
            folded[key].apply(event)
        out: dict[int, list[dict[str, Any]]] = {}
        for k in keys:
            labeling = folded.get(self._keys[k])
            if labeling is None or not self._agreed(labeling, folded):
                continue
            out[k] = list(self._branch_rows(labeling))
        return out

    def _agreed(self, labeling: Labeling, folded: dict[tuple[str, str], Labeling]) -> bool:
        if self.min_agreement is None:
            return True
        others = [lab for (item, _), lab in folded.items() if item == labeling.item["id"]]
        for at, rating in labeling.ratings.items():
            if rating is None:
                continue
            votes = [lab.ratings[at] for lab in others if lab.ratings.get(at) is not None]
            if votes.count(rating) < self.min_agreement * len(votes):
                return False
        return True

    def _branch_rows(self, labeling: Labeling) -> Iterator[dict[str, Any]]:
        # The same rows, in the same order, as formats.trl.stepwise exports.
        replacements = {step: event["text"] for step, event in labeling.replacements.items()}
        found = branches(
            labeling.item["alternatives"], labeling.ratings, labeling.choices, replacements
        )
        for completions, ratings in found:
            if self.neutral == "drop" and 0 in ratings:
                continue
            labels = [r == 1 or (r == 0 and self.neutral == "true") for r in ratings]
            yield {"prompt": labeling.item["prompt"], "completions": completions, "labels": labels}


def _event_filter(
    source: str | None, since: datetime | None, until: datetime | None
) -> sa.ColumnElement[bool]:
    where = [label_events.c.kind != "note"]
    if source is not None:
        where.append(
            sa.or_(label_events.c.source == source, label_events.c.source.startswith(f"{source}:"))
        )
    if since is not None:
        where.append(label_events.c.created_at >= since)
    if until is not None:
        where.append(label_events.c.created_at < until)
    return sa.and_(*where)


class PreferenceDataset(torch.utils.data.Dataset[dict[str, Any]]):
    """Chosen / rejected encodings (and ``margin``) for a Bradley-Terry reward model.

    Each example is what TRL's ``RewardTrainer`` makes of a ``{prompt, chosen, rejected}``
    row: ``prompt + answer``, EOS appended unless already there, tokenized with the tokenizer's
    special tokens; pairs longer than ``max_length`` are left out, as TRL filters them. The
    encoded pairs are held in memory (preferences are far fewer than step labels).

    Args:
        store: the store to read.
        tokenizer: a Hugging Face tokenizer.
        dataset: only comparisons of this dataset.
        annotator: only this annotator's preferences.
        max_length: leave out pairs with a side longer than this (TRL's default 1024).
    """

    def __init__(
        self,
        store: Store,
        tokenizer: Any,
        *,
        dataset: str | None = None,
        annotator: str | None = None,
        max_length: int | None = 1024,
    ) -> None:
        rows = list(preference(store, dataset=dataset, annotator=annotator))
        eos = tokenizer.eos_token

        def text(row: dict[str, Any], side: str) -> str:
            joined = f"{row['prompt']}{row[side]}"
            return joined if eos is None or joined.endswith(eos) else joined + eos

        texts = [text(row, "chosen") for row in rows] + [text(row, "rejected") for row in rows]
        ids = tokenizer(texts)["input_ids"] if texts else []
        self._pairs: list[dict[str, Any]] = []
        for row, chosen, rejected in zip(rows, ids[: len(rows)], ids[len(rows) :], strict=True):
            if max_length is not None and max(len(chosen), len(rejected)) > max_length:
                continue
            pair = {"chosen_ids": chosen, "rejected_ids": rejected}
            self._pairs.append({**pair, "margin": row["margin"]} if "margin" in row else pair)
        self.collate = PreferenceCollator(pad_token_id=_pad_id(tokenizer))

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._pairs[index]
