r"""OpenR's PRM layout, ``{question, process, label}``, out and in.

From openreasoner/openr's ``preprocess`` (``ConvertedItem`` and its PRM800K / Math-Shepherd
converters): ``process`` is the steps each followed by a space and the step tag, joined by
spaces (``"s1 TAG s2 TAG"``), ``label`` is ``"+"`` or ``"-"`` per step; the PRM reads
``f"{question} {process}"`` with the labels at the tags. The converter's default tag is
``"\n\n\n\n\n"`` (OpenR's Qwen-based PRM); its first, Math-Shepherd-based PRM used ``ки``.
See ``docs/reward-data-formats.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labwidget.formats._errors import FormatError
from labwidget.formats._tagged import Source, field, import_paths, labeled_paths, refuse_tag
from labwidget.store import Store

STEP_TAG = "\n\n\n\n\n"
FORMAT = "openr"


def export_openr(
    store: Store,
    *,
    neutral: str = "true",
    step_tag: str = STEP_TAG,
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    """OpenR rows ``{question, process, label}``, one per labelled path.

    >>> import tempfile
    >>> store = Store(f"{tempfile.mkdtemp()}/labels.db")
    >>> item = store.add_item("What is 2 + 3?", ["2 + 3 = 5.", "The answer is 6."])
    >>> for step, value in enumerate([1, -1]):
    ...     _ = store.record_label(item=item, step=step, value=value)
    >>> row = next(export_openr(store, step_tag="ки"))
    >>> row["question"], row["label"]
    ('What is 2 + 3?', ['+', '-'])
    >>> row["process"]
    '2 + 3 = 5. ки The answer is 6. ки'

    Args:
        store: the store to read.
        neutral: what a 0 rating becomes: ``"true"`` (``+``, the default, as OpenR's PRM800K
            converter does unless told ``--neutral-is-bad``), ``"false"`` or ``"drop"``.
        step_tag: the tag after each step; the PRM you train must be given the same.
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source (``human``, ``model:<name>``, ``auto:<method>``).

    Raises:
        FormatError: a step contains the step tag.
    """
    if not step_tag:
        raise ValueError("step_tag must not be empty")
    for path in labeled_paths(
        store, neutral=neutral, dataset=dataset, annotator=annotator, source=source
    ):
        refuse_tag(path, [path.item["prompt"], *path.steps], step_tag, FORMAT)
        yield {
            "question": path.item["prompt"],
            "process": f" {step_tag} ".join([*path.steps, ""]).strip(" "),
            "label": ["+" if label else "-" for label in path.labels],
        }


def import_openr(
    store: Store,
    source: Source,
    *,
    step_tag: str = STEP_TAG,
    dataset: str = FORMAT,
    annotator: str = FORMAT,
    label_source: str = f"auto:{FORMAT}",
    progress: bool | None = False,
) -> dict[str, int]:
    """Import OpenR JSONL rows into ``store``: every line, or none if any line is bad.

    ``process`` is split at ``step_tag``; spaces at a step's ends are not kept. A label is
    ``"+"`` or ``1`` (rated +1), ``"-"`` or ``0`` (rated -1), as OpenR's trainer reads them.

    Args:
        store: where the items and labels go.
        source: a file path, or the lines themselves.
        step_tag: the tag the file's ``process`` uses.
        dataset: the dataset the items go to.
        annotator: whose labels these are.
        label_source: the labels' source (OpenR's MATH-APS labels are automatic); say
            ``"human"`` for a file of human labels, such as converted PRM800K.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).

    Returns:
        ``{"lines": lines read, "items": items new to the store, "events": new labels}``.

    Raises:
        FormatError: a line is not JSON, its ``process`` does not end each step with
            ``step_tag``, or a label is not one of those; the message names the line and field.
    """

    def parse(line: Any, where: str) -> tuple[str, list[str], list[int], str]:
        return (*parse_openr(line, where, step_tag), dataset)

    return import_paths(store, source, parse, FORMAT, annotator, label_source, progress)


def parse_openr(
    line: Any, where: str, step_tag: str = STEP_TAG
) -> tuple[str, list[str], list[int]]:
    """The question, the steps and their ratings (+1 / -1) of one OpenR row.

    >>> parse_openr({"question": "Why?", "process": "a ки b ки", "label": ["+", 0]}, "x:1", "ки")
    ('Why?', ['a', 'b'], [1, -1])
    """
    question = field(line, where, "question", str)
    process = field(line, where, "process", str)
    labels = field(line, where, "label", list)
    pieces = process.split(step_tag)
    if len(pieces) < 2 or pieces[-1].strip(" "):
        raise FormatError(f"{where}: process: expected steps each followed by {step_tag!r}")
    steps = [piece.strip(" ") for piece in pieces[:-1]]
    ratings = []
    for index, label in enumerate(labels):
        if label in ("+", "-") or (label in (0, 1) and not isinstance(label, bool)):
            ratings.append(1 if label in ("+", 1) else -1)
        else:
            raise FormatError(f"{where}: label[{index}]: expected '+', '-', 1 or 0, got {label!r}")
    if len(ratings) != len(steps):
        raise FormatError(f"{where}: label: {len(ratings)} labels for {len(steps)} steps")
    return question, steps, ratings
