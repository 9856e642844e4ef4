"""What the step-tag formats (math-shepherd, qwen-prm, openr) share: labelled paths out, lines in.

Each of these formats writes one labelled path per row, the same paths ``trl-stepwise`` writes
(``trl.branches``: a PRM800K alternative that was not chosen ends a path of its own), with each
step marked by a tag and a binary label. None of them has a neutral label, so a 0 rating goes
through the ``neutral`` policy; reading one back gives +1 and -1 ratings only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from labwidget.formats._errors import FormatError
from labwidget.formats._labelings import labelings
from labwidget.formats.trl import NEUTRAL, branches
from labwidget.store import Batch, Store, content_id

Source = str | os.PathLike[str] | Iterable[str]
# A line read: its prompt, its steps, a rating per step, and the dataset its item goes to.
ReadPath = tuple[str, list[str], list[int], str]


@dataclass
class LabeledPath:
    """One path through a labelled item, as the step-tag formats write it.

    Attributes:
        item: the item as ``Store.items`` gives it.
        annotator: whose labels these are.
        steps: the texts of the path's steps.
        labels: each step's label: True is correct.
    """

    item: dict[str, Any]
    annotator: str
    steps: list[str]
    labels: list[bool]


def labeled_paths(
    store: Store,
    *,
    neutral: str,
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
) -> Iterator[LabeledPath]:
    """The paths ``trl.stepwise`` writes, with their items; ``neutral`` says what a 0 becomes.

    Args:
        store: the store to read.
        neutral: ``"true"``, ``"false"`` or ``"drop"`` (leave out a path with a neutral step).
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source.
    """
    if neutral not in NEUTRAL:
        raise ValueError(f"neutral is one of {', '.join(NEUTRAL)}, not {neutral!r}")
    for labeling in labelings(store, dataset=dataset, annotator=annotator, source=source):
        replacements = {step: event["text"] for step, event in labeling.replacements.items()}
        rows = branches(
            labeling.item["alternatives"], labeling.ratings, labeling.choices, replacements
        )
        for steps, ratings in rows:
            if neutral == "drop" and 0 in ratings:
                continue
            labels = [r == 1 or (r == 0 and neutral == "true") for r in ratings]
            yield LabeledPath(labeling.item, labeling.annotator, steps, labels)


def refuse_tag(path: LabeledPath, texts: Sequence[str], tag: str, format: str) -> None:
    """Refuse a path whose prompt or steps hold the format's step tag: it would split a step.

    Raises:
        FormatError: naming the item, where the tag is, and what to do.
    """
    for index, text in enumerate(texts):
        if tag in text:
            where = "its prompt" if index == 0 else f"step {index - 1}"
            raise FormatError(
                f"item {path.item['id']!r}: {where} contains {tag!r}, the {format} step tag, "
                "so a reader would split it there; edit the text, or export another format"
            )


def read_lines(source: Source, desc: str, progress: bool | None) -> Iterator[tuple[str, Any]]:
    """The JSON value on each non-blank line of ``source``, with ``FILE:LINE`` for errors.

    Args:
        source: a file path, or the lines themselves (any iterable of strings).
        desc: the progress bar's label.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).

    Raises:
        FormatError: a line is not UTF-8 or not JSON.
    """
    disable = None if progress is None else not progress
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with Path(source).open("rb") as file:
            for number, raw in enumerate(tqdm(file, desc=desc, disable=disable), 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise FormatError(f"{name}:{number}: not UTF-8 text") from None
                if text.strip():
                    yield f"{name}:{number}", _parsed(text, f"{name}:{number}")
        return
    for number, text in enumerate(tqdm(source, desc=desc, disable=disable), 1):
        if text.strip():
            yield f"<lines>:{number}", _parsed(text, f"<lines>:{number}")


def _parsed(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None


def field(line: Any, where: str, name: str, kind: type) -> Any:
    """``line[name]``, checked to be a ``kind``; the error names the line and the field."""
    if not isinstance(line, dict):
        raise FormatError(f"{where}: expected a JSON object, got {type(line).__name__}")
    if name not in line:
        raise FormatError(f"{where}: {name}: missing")
    value = line[name]
    if not isinstance(value, kind):
        raise FormatError(f"{where}: {name}: expected {kind.__name__}, got {json.dumps(value)}")
    return value


def add_path(
    batch: Batch,
    prompt: str,
    steps: Sequence[str],
    ratings: Sequence[int],
    *,
    format: str,
    dataset: str,
    annotator: str,
    source: str,
) -> None:
    """Add one read path: the item and a rating per step, with ids that make a re-import a no-op."""
    item = batch.add_item(prompt, list(steps), dataset=dataset, source=format)
    for step, value in enumerate(ratings):
        batch.record(
            "rating",
            item=item,
            step=step,
            value=value,
            event_id=content_id(format, annotator, item, step),
            annotator=annotator,
            source=source,
        )


def import_paths(
    store: Store,
    source: Source,
    parse: Callable[[Any, str], ReadPath],
    format: str,
    annotator: str,
    label_source: str,
    progress: bool | None,
) -> dict[str, int]:
    """Add the path ``parse`` reads from each line of ``source``: every one, or none on an error.

    The items' source is ``format``; their labels are ``annotator``'s, from ``label_source``.

    Returns:
        ``{"lines": lines read, "items": items new to the store, "events": new labels}``.
    """
    items_before = store.stats()["items"]
    lines = 0
    with store.batch() as batch:
        for where, line in read_lines(source, format, progress):
            prompt, steps, ratings, dataset = parse(line, where)
            add_path(
                batch, prompt, steps, ratings, format=format,
                dataset=dataset, annotator=annotator, source=label_source,
            )  # fmt: skip
            lines += 1
    return {"lines": lines, "items": store.stats()["items"] - items_before, "events": batch.written}
