"""Reading one JSON line into values every store can hold, naming the field of any that is not.

``json.loads`` takes things no store can keep or give back: nesting deep enough to overflow
Python's stack (here or later, when the meta is read back), integers too long to read, ``NaN``
and ``Infinity`` (not JSON, and PostgreSQL's ``json`` refuses them), lone UTF-16 surrogates
(no UTF-8 text can hold one) and NUL (PostgreSQL's text cannot). An importer refuses them with
the path of the field. It does not replace the characters with U+FFFD, as the store does for
model output captured live (``clean_text``), where refusing would lose the label: a file can be
fixed and read again, and what is imported must be what the file says, so that exporting gives
the file back. The same holds for every string, a labeler's name as much as a step's text.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

# How deep arrays and objects may nest in a line. PRM800K's own fields nest 6 deep; the free
# fields of ``question`` and ``human_completion`` get room, and the meta stays far from any
# recursion limit when it is read back.
MAX_DEPTH = 32
# A NUL or a surrogate as a JSON escape: only a line that has one (or a raw surrogate) is
# searched in full. A valid surrogate pair also matches; the search then finds nothing.
ESCAPES = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PART = re.compile(r"(?<=.)[.\[]")
TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')

Fail = Callable[[str, str], NoReturn]


class _LongNumber:
    """Stands in for an integer too long for Python to read, so its field can be named."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _number(digits: str) -> int | _LongNumber:
    if len(digits.lstrip("-")) > sys.get_int_max_str_digits():
        return _LongNumber(digits)
    return int(digits)


def load(text: str, fail: Fail) -> tuple[Any, bool]:
    """The line's JSON value, and whether it must be searched in full with ``check``.

    This refuses invalid JSON, nesting too deep for ``json.loads`` and, by their field, integers
    too long to read. It leaves the rest to ``check``: in full where the line holds a NUL, a
    surrogate or a number too long (the second value is True), else on the free fields alone,
    since a known field's type check refuses ``NaN`` or nesting anyway, at no cost to a good
    line.

    Args:
        text: one line.
        fail: called with (field path, message) for what is wrong; it raises.
    """
    try:
        return json.loads(text), _suspect(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        _refuse(exc, text, fail)
    except ValueError:
        pass
    # An integer past Python's digit limit: read the line again, keeping such numbers aside,
    # so that ``check`` names the field that holds one.
    try:
        return json.loads(text, parse_int=_number), True
    except (json.JSONDecodeError, RecursionError) as exc:
        _refuse(exc, text, fail)


def _suspect(text: str) -> bool:
    """Whether ``text`` may hold a NUL or a lone surrogate once parsed.

    A raw NUL is not valid JSON, and a raw surrogate cannot come from a UTF-8 file, only from
    lines handed over as Python strings.
    """
    if ESCAPES.search(text):
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse(exc: Exception, text: str, fail: Fail) -> NoReturn:
    if isinstance(exc, json.JSONDecodeError):
        fail("", f"invalid JSON: {exc.msg} (column {exc.colno})")
    fail(deep_path(text), f"nested deeper than {MAX_DEPTH} levels")


def check(value: Any, path: str, fail: Fail, depth: int = 1, *, texts: bool = True) -> None:
    """Refuse the first value under ``path`` that no store can hold (see the module's doc).

    Args:
        value: what to search.
        path: its field path, for the message.
        fail: called with (field path, message); it raises.
        depth: how deep ``value`` itself sits in the line (the line is 1 deep).
        texts: search strings and keys too; False where the line is known to hold no NUL or
            surrogate (see ``load``), which leaves numbers and nesting.
    """
    if isinstance(value, str):
        if texts:
            _check_text(value, path, fail)
    elif isinstance(value, float):
        if not math.isfinite(value):
            fail(path, f"expected a finite number, got {shown(value)}")
    elif isinstance(value, _LongNumber):
        fail(path, f"a whole number of {len(value.digits)} digits is too long to store")
    elif isinstance(value, (dict, list)):
        if depth > MAX_DEPTH:
            fail(short(path), f"nested deeper than {MAX_DEPTH} levels")
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in pairs:
            if texts and isinstance(key, str):
                _check_text(key, path, fail, what=f"the key {shown(key)} holds")
            # Most values are plain; skipping them here saves a call each on every line.
            if inner is None or type(inner) in (int, bool) or (type(inner) is str and not texts):
                continue
            at = f"{path}[{key}]" if isinstance(key, int) else joined(path, key)
            check(inner, at, fail, depth + 1, texts=texts)


def _check_text(text: str, path: str, fail: Fail, what: str = "holds") -> None:
    if text.isascii() and "\x00" not in text:
        return
    bad = UNSTORABLE.search(text)
    if bad is None:
        return
    at = f"at character {bad.start() + 1}"
    if bad.group() == "\x00":
        fail(path, f"{what} a NUL (U+0000) {at}, which PostgreSQL cannot store; remove it")
    fail(
        path,
        f"{what} a lone surrogate (U+{ord(bad.group()):04X}) {at}, which no store can hold as "
        "text; fix the text (was it decoded with the wrong encoding?)",
    )


def shown(value: Any) -> str:
    r"""A value as JSON, cut short: how an error message quotes what it got.

    Characters that do not print (a lone surrogate, a no-break space) are shown as escapes, so
    that the message can be printed and read as one line.

    >>> shown(5), shown(None), shown("give up"), shown("\ud800\xa0")
    ('5', 'null', '"give up"', '"\\ud800\\xa0"')
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (RecursionError, TypeError, ValueError):
        text = "[...]" if isinstance(value, list) else "{...}" if isinstance(value, dict) else "?"
    if len(text) > 40:
        text = text[:37] + "..."
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def deep_path(text: str, limit: int = MAX_DEPTH) -> str:
    """The path of the first array or object in ``text`` nested more than ``limit`` deep.

    For lines too deep for ``json.loads`` itself. The path is cut short (see ``short``).

    >>> deep_path('{"a": [1, {"b": [[[0]]]}]}', limit=4)
    'a[1].b[0]'
    """
    # Each open container: ["{", its current key, whether a key comes next] or ["[", index].
    stack: list[list[Any]] = []
    for match in TOKENS.finditer(text):
        piece = match.group()
        if piece in "{[":
            if len(stack) == limit:
                path = ""
                for entry in stack:
                    path = f"{path}[{entry[1]}]" if entry[0] == "[" else joined(path, entry[1])
                return short(path)
            stack.append(["{", "", True] if piece == "{" else ["[", 0])
        elif piece in "}]":
            if stack:
                stack.pop()
        elif not stack or piece == ":":
            continue
        elif piece == ",":
            top = stack[-1]
            if top[0] == "[":
                top[1] += 1
            else:
                top[2] = True
        elif stack[-1][0] == "{" and stack[-1][2]:
            stack[-1][1:] = [_key(piece), False]
    return ""


def joined(path: str, key: str) -> str:
    """The path of ``key`` in the object at ``path``; a key that is not a name is quoted.

    >>> joined("", "label"), joined("label", "steps"), joined("question", "a b")
    ('label', 'label.steps', 'question["a b"]')
    """
    if NAME.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{shown(key)}]"


def short(path: str, parts: int = 4) -> str:
    """A field path cut after its first few parts: enough to find the field in a deep line.

    >>> short("question.x[0][0][0][0]"), short("label.steps[1].text")
    ('question.x[0][0]…', 'label.steps[1].text')
    """
    cut = [match.start() for match in PART.finditer(path)]
    return path if len(cut) < parts else path[: cut[parts - 1]] + "…"


def _key(token: str) -> str:
    try:
        key: str = json.loads(token)
    except ValueError:
        key = token[1:-1]
    return key
