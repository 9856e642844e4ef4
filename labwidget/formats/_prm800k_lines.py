"""Checking one PRM800K JSONL line against the published schema, naming any bad field.

The schema is the one in openai/prm800k's README: one labelled solution per line, with
``label.steps[].completions[].{text, rating, flagged}``, ``chosen_completion`` and
``human_completion`` per step, and ``finish_reason`` and ``total_time`` for the whole line.
Fields the README does not describe are refused, so that nothing is silently dropped.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NoReturn

from labwidget.formats._errors import FormatError
from labwidget.store.schema import FINISH_REASONS

LINE_FIELDS = (
    "labeler",
    "timestamp",
    "generation",
    "is_quality_control_question",
    "is_initial_screening_question",
    "question",
    "label",
)
LINE_FLAGS = ("is_quality_control_question", "is_initial_screening_question")
LABEL_FIELDS = ("steps", "total_time", "finish_reason")
STEP_FIELDS = ("completions", "human_completion", "chosen_completion")
COMPLETION_FIELDS = ("text", "rating", "flagged")
# The annotator column holds at most this many characters.
MAX_LABELER = 200


def shown(value: Any) -> str:
    """A value as JSON, cut short: how an error message quotes what it got.

    >>> shown(5), shown(None), shown("give up")
    ('5', 'null', '"give up"')
    """
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Check:
    """Raises FormatErrors that start with ``FILE:LINE:`` and the path of the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> NoReturn:
        raise FormatError(
            f"{self.where}: {path}: {message}" if path else f"{self.where}: {message}"
        )

    def fields(
        self, value: Any, path: str, known: tuple[str, ...] | None, required: tuple[str, ...]
    ) -> dict[str, Any]:
        """The object at ``path``, checked for missing keys and for keys not in ``known``."""
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {shown(value)}")
        prefix = f"{path}." if path else ""
        for key in value:
            if known is not None and key not in known:
                self.fail(prefix + key, "unexpected field")
        for key in required:
            if key not in value:
                self.fail(prefix + key, "missing")
        return value

    def step(self, step: Any, path: str) -> None:
        step = self.fields(step, path, STEP_FIELDS, ())
        completions = step.get("completions")
        if completions is not None and not isinstance(completions, list):
            self.fail(f"{path}.completions", f"expected a list or null, got {shown(completions)}")
        for alt, completion in enumerate(completions or []):
            at = f"{path}.completions[{alt}]"
            completion = self.fields(completion, at, COMPLETION_FIELDS, ("text",))
            if not isinstance(completion["text"], str):
                self.fail(f"{at}.text", f"expected a string, got {shown(completion['text'])}")
            rating = completion.get("rating")
            if rating is not None and not (_is_int(rating) and rating in (-1, 0, 1)):
                self.fail(f"{at}.rating", f"expected -1, 0, 1 or null, got {shown(rating)}")
            if not isinstance(completion.get("flagged"), (bool, type(None))):
                self.fail(
                    f"{at}.flagged",
                    f"expected true, false or null, got {shown(completion['flagged'])}",
                )
        human = step.get("human_completion")
        if human is not None:
            text = self.fields(human, f"{path}.human_completion", None, ("text",))["text"]
            if not isinstance(text, str) or not text.strip():
                self.fail(f"{path}.human_completion.text", f"expected text, got {shown(text)}")
        chosen = step.get("chosen_completion")
        count = len(completions or [])
        if chosen is not None and not (_is_int(chosen) and 0 <= chosen < count):
            expected = f"an index into completions (0 to {count - 1})" if count else "no index"
            self.fail(
                f"{path}.chosen_completion", f"expected {expected} or null, got {shown(chosen)}"
            )


def parse_line(text: str, where: str) -> tuple[dict[str, Any], datetime]:
    """Parse and check one line; returns the line and its timestamp as an aware datetime.

    Args:
        text: the line as read from the file.
        where: ``FILE:LINE``, the start of any error message.

    Raises:
        FormatError: the line is not JSON or breaks the schema; the message names the field.
    """
    try:
        line = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    check = _Check(where)
    line = check.fields(line, "", LINE_FIELDS, ("labeler", "timestamp", "question", "label"))
    labeler = line["labeler"]
    if not isinstance(labeler, str) or not 0 < len(labeler) <= MAX_LABELER:
        check.fail("labeler", f"expected 1 to {MAX_LABELER} characters, got {shown(labeler)}")
    try:
        created_at = datetime.fromisoformat(line["timestamp"])
    except (TypeError, ValueError):
        check.fail("timestamp", f"expected an ISO 8601 time, got {shown(line['timestamp'])}")
    generation = line.get("generation")
    if generation is not None and not _is_int(generation):
        check.fail("generation", f"expected a whole number or null, got {shown(generation)}")
    for flag in LINE_FLAGS:
        if flag in line and not isinstance(line[flag], bool):
            check.fail(flag, f"expected true or false, got {shown(line[flag])}")
    question = check.fields(line["question"], "question", None, ("problem",))
    if not isinstance(question["problem"], str):
        check.fail("question.problem", f"expected a string, got {shown(question['problem'])}")
    label = check.fields(line["label"], "label", LABEL_FIELDS, ("steps", "finish_reason"))
    if not isinstance(label["steps"], list):
        check.fail("label.steps", f"expected a list, got {shown(label['steps'])}")
    for position, step in enumerate(label["steps"]):
        check.step(step, f"label.steps[{position}]")
    total_time = label.get("total_time")
    if total_time is not None and not (_is_int(total_time) and total_time >= 0):
        check.fail("label.total_time", f"expected milliseconds or null, got {shown(total_time)}")
    if label["finish_reason"] not in FINISH_REASONS:
        reasons = ", ".join(FINISH_REASONS)
        check.fail(
            "label.finish_reason", f"expected one of {reasons}, got {shown(label['finish_reason'])}"
        )
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    return line, created_at
