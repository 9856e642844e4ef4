"""PRM800K JSONL in and out, keeping every field so that import then export gives the lines back.

How a line is stored: the item is the problem and, at each step, the texts of its completions
(the alternatives); everything else in ``question`` and the line's ``generation`` and
quality-control flags go in the item's meta. Where the line carries the whole solution
(``question.pre_generated_steps``, phase 2), the item holds all of it, so that whoever labels
it again sees the solution and not where the first labeler stopped (see ``solution_steps``).
The labeler's judgements become events under the labeler's name, timed at the line's
``timestamp``: a ``rating`` and a ``flag`` (``flagged`` true → 1, false → 0, null → none) per
completion, a ``choice`` for ``chosen_completion``, a
``replacement`` for ``human_completion`` (the whole object in its meta) and a ``finish`` for
``finish_reason`` and ``total_time``. A step without completions (a human-only step) holds the
human text, or ``""``, as its one alternative; the finish event's meta remembers that it had
none, and how many steps the line labelled when the item holds more. Event ids are hashes of
the line's identity, so importing a file twice stores it once.

Lines that make the same item (the same problem and steps) share its meta: the first one
imported sets it, and the others are exported with it. Optional fields a line leaves out come
back as null (``false`` for the two quality-control flags).
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
from labwidget.formats._json_line import UNSTORABLE
from labwidget.formats._labelings import LABELED_STEPS, Labeling, labelings
from labwidget.formats._prm800k_lines import LINE_FLAGS, MAX_NAME, parse_line
from labwidget.store import Batch, LabelError, Store, content_id

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
        FormatError: a line is not JSON or breaks the schema, or holds a value no store can
            (a NUL or a lone surrogate in a string, ``NaN``, a number past its column's range,
            nesting deeper than 32 levels); the message, one line, names the file, the line and
            the field, and the store is left as it was. Text is never altered on the way in.
        ValueError: ``dataset`` is not 1 to 200 characters of text.
        OSError: the file cannot be read.
    """
    _check_name("dataset", dataset)
    name = _name(source)
    if name is not None:
        _check_name(f"{source}: the file name", name)
    items_before = store.stats()["items"]
    lines = 0
    with _numbered(source, progress) as numbered, store.batch() as batch:
        for where, text in numbered:
            line, created_at = parse_line(text, where)
            try:
                _add_line(batch, line, created_at, dataset=dataset, source=name)
            except LabelError as exc:
                raise FormatError(f"{where}: {exc}") from None
            lines += 1
    return {
        "lines": lines,
        "items": store.stats()["items"] - items_before,
        "events": batch.written,
    }


def _name(source: Source) -> str | None:
    return Path(source).name if isinstance(source, (str, os.PathLike)) else None


def _check_name(what: str, name: Any) -> None:
    """Refuse a dataset or file name the store's 200-character name columns cannot hold."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or UNSTORABLE.search(name):
        raise ValueError(f"{what} must be 1 to {MAX_NAME} characters of text, not {name!r}")


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
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors write
        if text.strip():
            yield f"{name}:{number}", text


def _counted(lines: Iterable[str], bar: tqdm[Any]) -> Iterator[tuple[str, str]]:
    for number, text in enumerate(lines, 1):
        bar.update(1)
        if not isinstance(text, str):
            raise FormatError(f"<lines>:{number}: expected a string, got {type(text).__name__}")
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
    whole = solution_steps(positions, question.get("pre_generated_steps"))
    item = batch.add_item(
        problem, whole, dataset=dataset, meta=meta, source=source, created_at=created_at
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
    if len(whole) > len(steps):
        finish_meta[LABELED_STEPS] = len(steps)
    record(
        "finish", text=label["finish_reason"], duration_ms=label.get("total_time"), meta=finish_meta
    )


def solution_steps(labeled: list[list[str]], pre_generated: list[str] | None) -> list[list[str]]:
    """The item's steps for a line: its labelled steps, then the rest of its whole solution.

    A phase-2 line labels a prefix of a pre-generated solution: up to the first -1, or until
    the labeler gave up. Its item holds the whole solution, so that where the item ends does
    not give away where the first labeler found an error. The rest is added only where the
    labelled steps lie on the pre-generated solution: alternative 0 of every labelled step
    (its first completion, or the human text of a step without any) is the pre-generated step
    there, so the item's own path (alternative 0 at every step) is the pre-generated solution.
    Where they part, because the labeler wrote or chose something else mid-way and went on from
    it, or the line labels more steps than were pre-generated, the rest would continue a path
    the labeler left: the item then holds the labelled steps only, and ``pre_generated_steps``
    stays in the meta. Either way the labels are on the labelled steps only (see
    ``Labeling.item``).

    >>> solution_steps([["a"], ["b", "b2"]], ["a", "b", "c", "d"])
    [['a'], ['b', 'b2'], ['c'], ['d']]
    >>> solution_steps([["a"], ["x", "b"]], ["a", "b", "c", "d"])
    [['a'], ['x', 'b']]
    """
    if pre_generated is None or len(pre_generated) <= len(labeled):
        return labeled
    if any(texts[0] != pre_generated[p] for p, texts in enumerate(labeled)):
        return labeled
    return labeled + [[text] for text in pre_generated[len(labeled) :]]


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
