"""Math-Shepherd's layout, ``{input, label, task}``, out and in.

The layout of ``peiyi9979/Math-Shepherd`` (its dataset card; distilabel's ``FormatPRM`` writes it,
TRL's ``examples/datasets/math_shepherd.py`` and OpenRLHF <= 0.9.5 read it): ``input`` is the
question, a space, then the steps joined by newlines, each followed by `` ки``; ``label`` is the
same text with each ``ки`` replaced by ``+`` (a good step) or ``-`` (a bad one); ``task`` names
the source (``GSM8K`` or ``MATH`` there; the item's dataset here). See
``docs/reward-data-formats.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labwidget.formats._errors import FormatError
from labwidget.formats._tagged import Source, field, import_paths, labeled_paths, refuse_tag
from labwidget.store import Store

TAG = "ки"
MARKS = {True: "+", False: "-"}
FORMAT = "math-shepherd"


def export_shepherd(
    store: Store,
    *,
    neutral: str = "true",
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    r"""Math-Shepherd rows ``{input, label, task}``, one per labelled path.

    >>> import tempfile
    >>> store = Store(f"{tempfile.mkdtemp()}/labels.db")
    >>> item = store.add_item("What is 2 + 3?", ["2 + 3 = 5.", "The answer is: 6"])
    >>> for step, value in enumerate([1, -1]):
    ...     _ = store.record_label(item=item, step=step, value=value)
    >>> row = next(export_shepherd(store))
    >>> row["input"], row["task"]
    ('What is 2 + 3? 2 + 3 = 5. ки\nThe answer is: 6 ки', 'default')
    >>> row["label"]
    'What is 2 + 3? 2 + 3 = 5. +\nThe answer is: 6 -'

    Args:
        store: the store to read.
        neutral: what a 0 rating becomes: ``"true"`` (``+``, the default: Math-Shepherd's
            ``+`` marks a step that can still lead to the right answer, which a correct but
            unhelpful step can), ``"false"`` (``-``) or ``"drop"`` (leave the row out).
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source (``human``, ``model:<name>``, ``auto:<method>``).

    Raises:
        FormatError: a prompt or step contains ``ки``, which would split it.
    """
    for path in labeled_paths(
        store, neutral=neutral, dataset=dataset, annotator=annotator, source=source
    ):
        prompt = path.item["prompt"]
        refuse_tag(path, [prompt, *path.steps], TAG, FORMAT)
        tagged = "\n".join(f"{step} {TAG}" for step in path.steps)
        marked = "\n".join(
            f"{step} {MARKS[label]}" for step, label in zip(path.steps, path.labels, strict=True)
        )
        yield {
            "input": f"{prompt} {tagged}",
            "label": f"{prompt} {marked}",
            "task": path.item["dataset"],
        }


def import_shepherd(
    store: Store,
    source: Source,
    *,
    dataset: str | None = None,
    annotator: str = FORMAT,
    label_source: str = f"auto:{FORMAT}",
    progress: bool | None = False,
) -> dict[str, int]:
    """Import Math-Shepherd JSONL into ``store``: every line, or none if any line is bad.

    Each line becomes an item (the question and its steps) with a +1 or -1 rating per step.
    The question ends where the first step begins: before ``Step 1:`` (as TRL's converter and
    the data itself have it), else after the question's last ``?``; a line with neither is
    refused. Tags inside the question (a few lines of the published data have them) are taken
    out with their labels, as TRL's converter does. Whitespace at a step's ends is not kept.

    Args:
        store: where the items and labels go.
        source: a file path, or the lines themselves.
        dataset: the dataset the items go to; by default each line's ``task``.
        annotator: whose labels these are.
        label_source: the labels' source: Math-Shepherd's are automatic (Monte Carlo
            rollouts); say ``"human"`` for a file of human labels.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).

    Returns:
        ``{"lines": lines read, "items": items new to the store, "events": new labels}``.

    Raises:
        FormatError: a line is not JSON, misses a field, or its ``label`` does not match its
            ``input``; the message names the line and the field.
    """

    def parse(line: Any, where: str) -> tuple[str, list[str], list[int], str]:
        prompt, steps, ratings = parse_shepherd(line, where)
        task = line.get("task") if isinstance(line.get("task"), str) else None
        return prompt, steps, ratings, dataset or task or FORMAT

    return import_paths(store, source, parse, FORMAT, annotator, label_source, progress)


def parse_shepherd(line: Any, where: str) -> tuple[str, list[str], list[int]]:
    r"""The question, the steps and their ratings (+1 / -1) of one Math-Shepherd line.

    >>> parse_shepherd({"input": "Why? Step 1: a ки\nStep 2: b ки",
    ...                 "label": "Why? Step 1: a +\nStep 2: b -"}, "x:1")
    ('Why?', ['Step 1: a', 'Step 2: b'], [1, -1])
    """
    text = field(line, where, "input", str)
    label = field(line, where, "label", str)
    segments = text.split(TAG)
    if len(segments) < 2:
        raise FormatError(f"{where}: input: no {TAG!r} step tag")
    if segments[-1].strip():
        raise FormatError(f"{where}: input: text after the last {TAG!r} step tag")
    ratings = []
    offset = 0
    for segment in segments[:-1]:
        offset += len(segment)
        mark = label[offset : offset + 1]
        if mark not in ("+", "-"):
            raise FormatError(
                f"{where}: label: expected + or - where input has its step tag "
                f"(character {offset}), got {mark!r}"
            )
        ratings.append(1 if mark == "+" else -1)
        offset += 1
    if label != "".join(
        seg + mark for seg, mark in zip(segments, [*label_marks(ratings), ""], strict=True)
    ):
        raise FormatError(f"{where}: label: differs from input other than at the step tags")
    first, prompt, step = _first_step(segments[:-1])
    if prompt is None:
        raise FormatError(
            f"{where}: input: cannot tell the question from the first step: "
            "neither 'Step 1:' nor a '?' ends the question"
        )
    steps = [step, *(segment.strip() for segment in segments[first + 1 : -1])]
    return prompt, steps, ratings[first:]


def label_marks(ratings: list[int]) -> list[str]:
    """``+`` for +1 and ``-`` for -1, the marks a label string holds at the step tags."""
    return ["+" if rating == 1 else "-" for rating in ratings]


def _first_step(segments: list[str]) -> tuple[int, str | None, str]:
    """(the segment that holds step 1, the question, step 1's text).

    The question normally fills the first segment up to step 1; when ``Step 1:`` only comes in
    a later segment, the tags before it sit inside the question and are left out.
    """
    for index, segment in enumerate(segments):
        for marker in ("Step 1:", "step 1:"):
            head, found, rest = segment.rpartition(marker)
            if found:
                question = "".join(segments[:index]) + head
                return index, question.strip(), (marker + rest).strip()
    head, found, rest = segments[0].rpartition("?")
    if found:
        return 0, (head + "?").strip(), rest.strip()
    return 0, None, ""
