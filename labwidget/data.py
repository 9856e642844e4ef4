"""torch datasets over a store: process-reward (stepwise) and preference training feeds.

``StepDataset`` tokenizes exactly as TRL 1.13's ``PRMTrainer.tokenize_row`` and
``PreferenceDataset`` as TRL's ``RewardTrainer``; ``follow`` streams labels as they land.

A ``StepDataset`` holds no labels in memory, only an index: one (item, annotator) key per
labeling and two small integer arrays that map each example to its labeling and branch. An
example is read from the store when asked for (``__getitems__`` reads a whole DataLoader batch
in one query), so a store of millions of labels costs a few bytes per example, any sampler
(``DistributedSampler`` included) can shuffle it, and each DataLoader worker opens its own
connection. Building the index reads every labeling once, a chunk at a time, and (when a
length limit is set) tokenizes each chunk to count the labels truncation cuts; nothing of it
is kept but the counts.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

import numpy as np
import torch.utils.data

from labwidget._collate import PreferenceCollator, StepCollator
from labwidget._encoding import encode_steps, kept_labels, written_labels
from labwidget._follow import follow
from labwidget.formats._labelings import Labeling, labelings
from labwidget.formats.trl import NEUTRAL, labeling_rows, preference
from labwidget.store import Store

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

logger = logging.getLogger(__name__)


def _pad_id(tokenizer: Any) -> int:
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("the tokenizer has no pad or EOS token: set tokenizer.pad_token first")


class StepDataset(torch.utils.data.Dataset[dict[str, list[int]]]):
    r"""Stepwise examples ``{input_ids, labels}`` for a process reward model, read from a store.

    The rows are those ``labwidget.formats.trl.stepwise`` exports, made by the same function
    (``formats.trl.labeling_rows``: PRM800K branches, the ``neutral`` policy), tokenized as
    TRL 1.13's ``PRMTrainer`` does; see ``encode_steps``.

    Truncation is never silent. ``max_length`` and ``max_completion_length`` cut the labels of
    the steps past the limit; a row can lose all of them, and such a row trains on nothing (a
    batch of only such rows gives a NaN loss). Building the dataset counts both, keeps the
    counts as attributes, and logs one warning on the ``labwidget.data`` logger when there are
    any. By default a row left with no label is dropped; ``drop_unlabeled=False`` keeps it, for
    exactly the examples TRL 1.13 makes. Counting tokenizes every row once when a limit is set.

    Args:
        store: the store to read.
        tokenizer: a Hugging Face tokenizer.
        neutral: what a 0 rating becomes: ``"false"``, ``"true"`` or ``"drop"`` the row.
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source: a family (``"human"``, ``"model"``, ``"auto"``:
            the name and every ``name:…``) or an exact one such as ``"model:judge-7b"``,
            as ``formats.trl.stepwise`` reads it.
        min_agreement: use an annotator's labels on an item only if each of their ratings is
            shared by at least this fraction of the annotators who rated that step.
        since: only label events recorded at or after this time.
        until: only label events recorded before this time.
        step_separator: appended after every step (TRL's default ``"\\n"``).
        max_length: right-truncate each example to this many tokens (TRL's default 1024).
        max_completion_length: truncate the steps to this many tokens first.
        train_on_last_step_only: keep only the last step's label (unless ``is_eval``).
        is_eval: this is an evaluation set (see ``train_on_last_step_only``).
        drop_unlabeled: leave out rows that truncation left with no label (the default);
            False keeps them, as TRL does.
        adjudicated: take a step's adjudicated label (its newest ``adjudication`` event) in
            place of each annotator's rating of it (the default).

    Attributes:
        truncated_labels: step labels that truncation cut off, over every row read (a dropped
            row's included); with ``train_on_last_step_only`` a row has one label to lose.
        truncated_rows: rows that lost at least one label that way.
        unlabeled_rows: rows left with no label at all; not in the dataset unless
            ``drop_unlabeled=False``.
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
        drop_unlabeled: bool = True,
        adjudicated: bool = True,
    ) -> None:
        if neutral not in NEUTRAL:
            raise ValueError(f"neutral is one of {', '.join(NEUTRAL)}, not {neutral!r}")
        self.tokenizer = tokenizer
        self.neutral = neutral
        self.min_agreement = min_agreement
        self.annotator = annotator
        self.drop_unlabeled = drop_unlabeled
        self.adjudicated = adjudicated
        self.encoding = {
            "step_separator": step_separator,
            "max_length": max_length,
            "max_completion_length": max_completion_length,
            "train_on_last_step_only": train_on_last_step_only,
            "is_eval": is_eval,
        }
        self._dataset, self._source, self._since, self._until = dataset, source, since, until
        self._handle = store.handle()
        self._keys: list[tuple[str, str]] = []  # (item, annotator) of each labeling with rows
        self.truncated_labels = 0
        self.truncated_rows = 0
        self.unlabeled_rows = 0
        # Compact while it grows: 4 bytes per example, not a Python int object.
        row_key, row_branch = array("i"), array("i")
        found: list[tuple[int, list[dict[str, Any]]]] = []
        for key, rows in self._labeling_rows(None):
            found.append((len(self._keys), rows))
            self._keys.append(key)
            if len(found) == CHUNK:
                self._index(found, row_key, row_branch)
                found = []
        self._index(found, row_key, row_branch)
        self._row_key = np.frombuffer(row_key, dtype=np.intc)
        self._row_branch = np.frombuffer(row_branch, dtype=np.intc)
        self._cache: dict[int, list[dict[str, list[int]]]] = {}
        self.collate = StepCollator(pad_token_id=_pad_id(tokenizer))
        if self.truncated_labels:
            logger.warning("StepDataset: %s", self._truncation_report())

    def _truncation_report(self) -> str:
        """What truncation cut, in words, for the warning a build logs."""
        limits = {k: self.encoding[k] for k in ("max_length", "max_completion_length")}
        said = ", ".join(f"{k}={v}" for k, v in limits.items() if v is not None)
        report = f"{said} cut off {self.truncated_labels} step labels in {self.truncated_rows} rows"
        if not self.unlabeled_rows:
            return report
        fate = (
            "dropped them (drop_unlabeled=False keeps them, as TRL does)"
            if self.drop_unlabeled
            else "kept them: they train on nothing, and a batch of only such rows has a NaN loss"
        )
        left = f"{self.unlabeled_rows} rows were left with no label"
        return f"{report}; {left}, and the dataset {fate}"

    def _index(
        self,
        found: list[tuple[int, list[dict[str, Any]]]],
        row_key: array[int],
        row_branch: array[int],
    ) -> None:
        """Add the rows of some labelings to the index, counting what truncation cuts."""
        flat = [(k, branch) for k, rows in found for branch in range(len(rows))]
        counts = self._label_counts([row for _, rows in found for row in rows])
        for (k, branch), (written, kept) in zip(flat, counts, strict=True):
            self.truncated_labels += written - kept
            self.truncated_rows += written > kept
            self.unlabeled_rows += kept == 0
            if kept > 0 or not self.drop_unlabeled:
                row_key.append(k)
                row_branch.append(branch)

    def _label_counts(self, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
        """(labels written untruncated, labels kept) per row: one tokenizer call for them all."""
        settings = self.encoding
        last = {k: bool(settings[k]) for k in ("train_on_last_step_only", "is_eval")}
        written = [written_labels(row, **last) for row in rows]
        if settings["max_length"] is None and settings["max_completion_length"] is None:
            return [(n, n) for n in written]  # nothing is cut: no need to tokenize
        kept = map(kept_labels, self.encode(rows))
        return list(zip(written, kept, strict=True))

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
            found = self._rows_of(missing)
            flat = [(k, row) for k in missing for row in found.get(k, [])]
            encoded = iter(self.encode([row for _, row in flat]))
            for k in missing:
                self._cache[k] = [next(encoded) for _ in found.get(k, [])]
        return [self._cache[int(self._row_key[i])][int(self._row_branch[i])] for i in indices]

    def follow(
        self, *, since: int | None = None, poll_s: float = 0.5, idle_s: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Encoded examples of each labeling as it is finished: commit order, each once.

        Each ``finish`` event the dataset's filters let through yields its labeling's
        examples as they read at that moment (the same rows the dataset holds, encoded with
        its settings, rows left with no label dropped unless ``drop_unlabeled=False``), each
        with the item's id (``item``) and the event's ``seq``: pass the last ``seq`` as
        ``since`` to resume without gaps or repeats. ``collate`` ignores both keys. A labeling
        finished again yields its examples again, as they then read.

        Args:
            since: start after this ``seq``; ``0`` replays every finish first, None (the
                default) starts with the next one committed.
            poll_s: the longest wait between two looks at the store.
            idle_s: stop after this many seconds without a finish (None: never stop).
        """
        finished = follow(
            self._handle.get(), kind="finish", since=since, poll_s=poll_s, idle_s=idle_s
        )
        for event in finished:
            key = (event["item"], event["annotator"])
            if self.annotator is not None and key[1] != self.annotator:
                continue
            rows = [
                row for found, rows in self._labeling_rows([key[0]]) if found == key for row in rows
            ]
            for example in self.encode(rows):
                if kept_labels(example) > 0 or not self.drop_unlabeled:
                    yield {**example, "item": key[0], "seq": event["seq"]}

    def encode(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, list[int]]]:
        """Tokenize text rows ``{prompt, completions, labels}`` with this dataset's settings."""
        return encode_steps(rows, self.tokenizer, **self.encoding)  # type: ignore[arg-type]

    def rows(self) -> Iterator[dict[str, Any]]:
        """The text rows ``{prompt, completions, labels}`` of the examples, in example order."""
        for start in range(0, len(self._keys), CHUNK):
            end = min(start + CHUNK, len(self._keys))
            found = self._rows_of(range(start, end))
            first, last = np.searchsorted(self._row_key, [start, end])
            keys, branches = self._row_key[first:last], self._row_branch[first:last]
            for k, branch in zip(keys.tolist(), branches.tolist(), strict=True):
                yield found[k][branch]

    def _rows_of(self, keys: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """The text rows of each labeling in ``keys`` (by position in the index)."""
        wanted = {self._keys[k]: k for k in keys}
        item_ids = list(dict.fromkeys(item for item, _ in wanted))
        return {wanted[key]: rows for key, rows in self._labeling_rows(item_ids) if key in wanted}

    def _labeling_rows(
        self, item_ids: list[str] | None
    ) -> Iterator[tuple[tuple[str, str], list[dict[str, Any]]]]:
        """``((item, annotator), rows)`` of each labeling with rows, in the export's order."""
        # min_agreement weighs an annotator's ratings against everyone's on the item.
        who = self.annotator if self.min_agreement is None else None
        found = labelings(
            self._handle.get(), dataset=self._dataset, annotator=who, source=self._source,
            adjudicated=self.adjudicated, items=item_ids, since=self._since, until=self._until,
        )  # fmt: skip
        for item, per_item in groupby(found, key=lambda labeling: labeling.item["id"]):
            if not self._keeps(item):
                continue
            group = list(per_item)
            for labeling in group:
                if self.annotator is not None and labeling.annotator != self.annotator:
                    continue
                if not self._agreed(labeling, group):
                    continue
                rows = list(labeling_rows(labeling, self.neutral))
                if rows:
                    yield (labeling.item["id"], labeling.annotator), rows

    def _keeps(self, item: str) -> bool:
        """Whether the dataset holds ``item``'s labelings (all of them, unless narrowed)."""
        return True

    def _agreed(self, labeling: Labeling, others: list[Labeling]) -> bool:
        if self.min_agreement is None:
            return True
        for at, rating in labeling.ratings.items():
            if rating is None:
                continue
            votes = [lab.ratings[at] for lab in others if lab.ratings.get(at) is not None]
            if votes.count(rating) < self.min_agreement * len(votes):
                return False
        return True


class PreferenceDataset(torch.utils.data.Dataset[dict[str, Any]]):
    """Chosen / rejected encodings (and ``margin``) for a Bradley-Terry reward model.

    Each example is what TRL's ``RewardTrainer`` makes of a ``{prompt, chosen, rejected}``
    row: ``prompt + answer``, EOS appended unless already there, tokenized with the tokenizer's
    special tokens; pairs longer than ``max_length`` are left out, as TRL filters them, and
    counted (``too_long_pairs``, and a warning on the ``labwidget.data`` logger). The encoded
    pairs are held in memory (preferences are far fewer than step labels).

    Args:
        store: the store to read.
        tokenizer: a Hugging Face tokenizer.
        dataset: only comparisons of this dataset.
        annotator: only this annotator's preferences.
        max_length: leave out pairs with a side longer than this (TRL's default 1024).

    Attributes:
        too_long_pairs: the pairs left out for a side longer than ``max_length``.
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
        self.too_long_pairs = 0
        for row, chosen, rejected in zip(rows, ids[: len(rows)], ids[len(rows) :], strict=True):
            if max_length is not None and max(len(chosen), len(rejected)) > max_length:
                self.too_long_pairs += 1
                continue
            pair = {"chosen_ids": chosen, "rejected_ids": rejected}
            self._pairs.append({**pair, "margin": row["margin"]} if "margin" in row else pair)
        self.collate = PreferenceCollator(pad_token_id=_pad_id(tokenizer))
        if self.too_long_pairs:
            logger.warning(
                "PreferenceDataset: left out %d of %d pairs with a side longer than "
                "max_length=%d tokens, as TRL does; raise max_length to keep them",
                self.too_long_pairs,
                len(rows),
                max_length,
            )

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._pairs[index]
