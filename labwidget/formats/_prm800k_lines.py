"""Checking one PRM800K JSONL line against the published schema, naming any bad field.

The schema is the one in openai/prm800k's README: one labelled solution per line, with
``label.steps[].completions[].{text, rating, flagged}``, ``chosen_completion`` and
``human_completion`` per step, and ``finish_reason`` and ``total_time`` for the whole line.
Fields the README does not describe are refused, so that nothing is silently dropped; the free
fields of ``question`` and ``human_completion`` are kept as they are, but must be values every
store can hold (see ``_json_line``). Each number is checked against the column it goes to, so
that a line the check passes is one every store takes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, NoReturn

from labwidget.formats._errors import FormatError
from labwidget.formats._json_line import check, joined, load, shown
from labwidget.store import FINISH_REASONS

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
# The store's name columns (annotator, dataset, source) hold at most this many characters.
MAX_NAME = 200
# The largest value of the store's INTEGER columns on PostgreSQL (4 bytes; SQLite's hold 8):
# ``total_time`` goes to ``duration_ms``. ``generation`` (kept in the meta) is held to it too.
MAX_INT = 2**31 - 1
RATINGS = (-1, 0, 1)


def _is_int(value: Any, low: int = -MAX_INT - 1, high: int = MAX_INT) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_rating(value: Any) -> bool:
    return value is None or (_is_int(value) and value in RATINGS)


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
        for key in value:
            if known is not None and key not in known:
                self.fail(joined(path, key), "unexpected field")
        for key in required:
            if key not in value:
                self.fail(joined(path, key), "missing")
        return value

    def rating(self, value: dict[str, Any], path: str, key: str) -> None:
        if not _is_rating(value.get(key)):
            self.fail(f"{path}.{key}", f"expected -1, 0, 1 or null, got {shown(value[key])}")

    def flagged(self, value: dict[str, Any], path: str) -> None:
        if not isinstance(value.get("flagged"), (bool, type(None))):
            self.fail(
                f"{path}.flagged", f"expected true, false or null, got {shown(value['flagged'])}"
            )

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
            self.rating(completion, at, "rating")
            self.flagged(completion, at)
        human = step.get("human_completion")
        if human is not None:
            at = f"{path}.human_completion"
            human = self.fields(human, at, None, ("text",))
            text = human["text"]
            if not isinstance(text, str) or not text.strip():
                self.fail(f"{at}.text", f"expected text, got {shown(text)}")
            self.rating(human, at, "rating")
            self.rating(human, at, "corrected_rating")
            self.flagged(human, at)
            if not isinstance(human.get("source"), (str, type(None))):
                self.fail(
                    f"{at}.source", f"expected a string or null, got {shown(human['source'])}"
                )
            # Kept whole in the replacement's meta, its own fields as well.
            check(human, at, self.fail, depth=5, texts=False)
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
    checker = _Check(where)
    value, suspect = load(text, checker.fail)
    line = checker.fields(value, "", LINE_FIELDS, ("labeler", "timestamp", "question", "label"))
    if suspect:
        check(line, "", checker.fail)
    labeler = line["labeler"]
    if not isinstance(labeler, str) or not 0 < len(labeler) <= MAX_NAME:
        checker.fail("labeler", f"expected 1 to {MAX_NAME} characters, got {shown(labeler)}")
    created_at = _time(line["timestamp"], checker)
    generation = line.get("generation")
    if generation is not None and not _is_int(generation):
        checker.fail(
            "generation",
            f"expected a whole number from {-MAX_INT - 1} to {MAX_INT} or null, "
            f"got {shown(generation)}",
        )
    for flag in LINE_FLAGS:
        if flag in line and not isinstance(line[flag], bool):
            checker.fail(flag, f"expected true or false, got {shown(line[flag])}")
    question = checker.fields(line["question"], "question", None, ("problem",))
    if not isinstance(question["problem"], str):
        checker.fail("question.problem", f"expected a string, got {shown(question['problem'])}")
    pre = question.get("pre_generated_steps")
    if pre is not None and not (isinstance(pre, list) and all(isinstance(t, str) for t in pre)):
        checker.fail(
            "question.pre_generated_steps", f"expected a list of strings or null, got {shown(pre)}"
        )
    check(question, "question", checker.fail, depth=2, texts=False)
    label = checker.fields(line["label"], "label", LABEL_FIELDS, ("steps", "finish_reason"))
    if not isinstance(label["steps"], list):
        checker.fail("label.steps", f"expected a list, got {shown(label['steps'])}")
    for position, step in enumerate(label["steps"]):
        checker.step(step, f"label.steps[{position}]")
    total_time = label.get("total_time")
    if total_time is not None and not _is_int(total_time, 0):
        checker.fail(
            "label.total_time",
            f"expected milliseconds (0 to {MAX_INT}) or null, got {shown(total_time)}",
        )
    if label["finish_reason"] not in FINISH_REASONS:
        reasons = ", ".join(FINISH_REASONS)
        checker.fail(
            "label.finish_reason", f"expected one of {reasons}, got {shown(label['finish_reason'])}"
        )
    return line, created_at


def _time(stamp: Any, checker: _Check) -> datetime:
    """The timestamp as an aware datetime in UTC (one without a zone is taken as UTC)."""
    try:
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            return created_at.replace(tzinfo=timezone.utc)
        # In UTC before it is stored: SQLite keeps a time's digits and drops its zone.
        return created_at.astimezone(timezone.utc)
    except (TypeError, ValueError):
        checker.fail("timestamp", f"expected an ISO 8601 time, got {shown(stamp)}")
    except OverflowError:
        checker.fail("timestamp", f"{shown(stamp)} is out of range in UTC")
