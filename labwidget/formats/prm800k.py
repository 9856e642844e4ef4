"""PRM800K JSONL in and out, keeping every field so that import then export gives the lines back.

How a line is stored: the item is the problem and, at each step, the texts of its completions
(the alternatives); everything else in ``question`` and the line's ``generation`` and
quality-control flags go in the item's meta. The labeler's judgements become events under the
labeler's name, timed at the line's ``timestamp``: a ``rating`` and a ``flag`` (``flagged``
true → 1, false → 0, null → none) per completion, a ``choice`` for ``chosen_completion``, a
``replacement`` for ``human_completion`` (the whole object in its meta) and a ``finish`` for
``finish_reason`` and ``total_time``. A step without completions (a human-only step) holds the
human text, or ``""``, as its one alternative; the finish event's meta remembers that it had
none. Event ids are hashes of the line's identity, so importing a file twice stores it once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from labwidget.formats._errors import FormatError
from labwidget.formats._labelings import Labeling, labelings
from labwidget.formats._prm800k_lines import LINE_FLAGS, parse_line
from labwidget.store import Batch, Store, content_id

Source = str | os.PathLike[str] | Iterable[str]


def import_prm800k(
    store: Store, source: Source, *, dataset: str = "prm800k", progress: bool | None = False
) -> dict[str, int]:
    """Import PRM800K JSONL into ``store``: every line, or none of them if any line is bad.

    Args:
        store: where the items and labels go.
        source: a file path, or the lines themselves (any iterable of strings).
        dataset: the dataset the items belong to.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).

    Returns:
        ``{"lines": lines read, "items": items new to the store, "events": new label events}``.

    Raises:
        FormatError: a line is not JSON or breaks the schema; the message names the file, the
            line and the field, and the store is left as it was.
        OSError: the file cannot be read.
    """
    items_before = store.stats()["items"]
    lines = 0
    with _numbered(source, progress) as numbered, store.batch() as batch:
        for where, text in numbered:
            line, created_at = parse_line(text, where)
            _add_line(batch, line, created_at, dataset=dataset, source=_name(source))
            lines += 1
    return {
        "lines": lines,
        "items": store.stats()["items"] - items_before,
        "events": batch.written,
    }


def _name(source: Source) -> str | None:
    return Path(source).name if isinstance(source, (str, os.PathLike)) else None


@contextmanager
def _numbered(source: Source, progress: bool | None) -> Iterator[Iterator[tuple[str, str]]]:
    """The non-blank lines of ``source`` as (``FILE:LINE``, text) pairs, behind a progress bar."""
    disable = None if progress is None else not progress
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with (
            path.open("rb") as file,
            tqdm(
                total=path.stat().st_size,
                unit="B",
                unit_scale=True,
                desc=path.name,
                disable=disable,
            ) as bar,
        ):
            yield _decoded(file, os.fspath(source), bar)
    else:
        with tqdm(unit=" lines", desc="prm800k", disable=disable) as bar:
            yield _counted(source, bar)


def _decoded(file: IO[bytes], name: str, bar: tqdm[Any]) -> Iterator[tuple[str, str]]:
    for number, raw in enumerate(file, 1):
        bar.update(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{name}:{number}: not UTF-8 text") from None
        if text.strip():
            yield f"{name}:{number}", text


def _counted(lines: Iterable[str], bar: tqdm[Any]) -> Iterator[tuple[str, str]]:
    for number, text in enumerate(lines, 1):
        bar.update(1)
        if text.strip():
            yield f"<lines>:{number}", text


def _add_line(
    batch: Batch, line: dict[str, Any], created_at: datetime, *, dataset: str, source: str | None
) -> None:
    """Add one checked line's item and events to ``batch``."""
    question = dict(line["question"])
    problem = question.pop("problem")
    meta = {"question": question, **{k: line[k] for k in ("generation", *LINE_FLAGS) if k in line}}
    label = line["label"]
    steps: list[dict[str, Any]] = label["steps"]
    positions = [
        [c["text"] for c in step["completions"]]
        if step.get("completions")
        else [(step.get("human_completion") or {"text": ""})["text"]]
        for step in steps
    ]
    item = batch.add_item(
        problem, positions, dataset=dataset, meta=meta, source=source, created_at=created_at
    )
    labeler, stamp = line["labeler"], line["timestamp"]

    def record(kind: str, step: int | None = None, alt: int = 0, **fields: Any) -> None:
        event_id = content_id(labeler, stamp, item, kind, step, alt)
        batch.record(
            kind, item=item, step=step, alt=alt, event_id=event_id, annotator=labeler,
            created_at=created_at, **fields,
        )  # fmt: skip

    for position, step in enumerate(steps):
        for alt, completion in enumerate(step.get("completions") or []):
            if completion.get("rating") is not None:
                record("rating", position, alt, value=completion["rating"])
            if completion.get("flagged") is not None:
                record("flag", position, alt, value=int(completion["flagged"]))
        if step.get("chosen_completion") is not None:
            record("choice", position, value=step["chosen_completion"])
        human = step.get("human_completion")
        if human is not None:
            record("replacement", position, text=human["text"], meta={"human_completion": human})
    finish_meta: dict[str, Any] = {"timestamp": stamp}
    empty = {str(p): step.get("completions") for p, step in enumerate(steps)}
    empty = {position: value for position, value in empty.items() if not value}
    if empty:
        finish_meta["empty_steps"] = empty
    record(
        "finish", text=label["finish_reason"], duration_ms=label.get("total_time"), meta=finish_meta
    )


def export_prm800k(store: Store, *, dataset: str | None = None) -> Iterator[dict[str, Any]]:
    """One PRM800K line per (item, annotator) with labels, built from the newest labels.

    Lines imported by ``import_prm800k`` come back as they were read. If one labeler labelled
    the same solution twice, only the newer labelling is kept: the store holds one current
    label per step and labeler.

    Args:
        store: the store to read.
        dataset: only items of this dataset.
    """
    for labeling in labelings(store, dataset=dataset):
        yield _line(labeling)


def _line(labeling: Labeling) -> dict[str, Any]:
    item, finish = labeling.item, labeling.finish
    finish_meta = (finish or {}).get("meta") or {}
    empty = finish_meta.get("empty_steps", {})
    steps = []
    for position, texts in enumerate(item["alternatives"]):
        if str(position) in empty:
            completions = empty[str(position)]
        else:
            completions = [
                {
                    "text": text,
                    "rating": labeling.ratings.get((position, alt)),
                    "flagged": _flagged(labeling.flags.get((position, alt))),
                }
                for alt, text in enumerate(texts)
            ]
        replacement = labeling.replacements.get(position)
        human = None
        if replacement is not None:
            human = (replacement["meta"] or {}).get(
                "human_completion", {"text": replacement["text"]}
            )
        steps.append(
            {
                "completions": completions,
                "human_completion": human,
                "chosen_completion": labeling.choices.get(position),
            }
        )
    meta = item["meta"]
    return {
        "labeler": labeling.annotator,
        "timestamp": finish_meta.get("timestamp", labeling.last_at),
        "generation": meta.get("generation"),
        **{flag: meta.get(flag, False) for flag in LINE_FLAGS},
        "question": {"problem": item["prompt"], **meta.get("question", {})},
        "label": {
            "steps": steps,
            "total_time": None if finish is None else finish["duration_ms"],
            "finish_reason": None if finish is None else finish["text"],
        },
    }


def _flagged(value: int | None) -> bool | None:
    return None if value is None else bool(value)
