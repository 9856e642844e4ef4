"""The error a bad input file raises: it names the file, the line and the field."""

from __future__ import annotations


class FormatError(ValueError):
    """An input line does not follow its format; nothing from the file was stored.

    The message reads ``FILE:LINE: FIELD: what is wrong``, for example
    ``prm800k.jsonl:3: label.steps[1].completions[0].rating: expected -1, 0, 1 or null, got 5``.
    """
