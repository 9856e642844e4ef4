"""Fuzzing the PRM800K importer: any line imports exactly, or fails as one line and stores nothing.

Lines are the sample file's and synthetic ones (phase 1 and phase 2, whole solutions that the
labelled steps follow or leave), then mutated: a field replaced by another value (strings
with lone surrogates or NUL, numbers past a column's range, NaN, wrong types, deep nesting),
deleted or added, or the JSON text itself cut, nested thousands deep or given a bad literal.
Each goes to ``import_prm800k`` and to ``labwidget import`` in a file after a good line, and:

* accepted, the store gives back what the line says: exporting the dataset gives both lines,
  with optional fields the line left out as null;
* refused, the error is a FormatError of one line, ``FILE:2: FIELD: what is wrong`` (or the
  whole-line ``invalid JSON``, ``not UTF-8 text``), the command exits 1 with that line on
  stderr, and the store is unchanged, the good line included.

Every example shares one store; each line gets a problem of its own (a prefix added after the
mutation) and a dataset of its own, so examples do not share items. Under CI the examples are
derandomized, so a failure there reproduces.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import labwidget as lw
from labwidget import cli
from labwidget.formats import FormatError, export_prm800k, import_prm800k
from labwidget.store.schema import FINISH_REASONS

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
SAMPLE_LINES = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
INT32 = 2**31 - 1

# Text a store holds as it is: any character but NUL and the (lone) surrogates.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
RATING = st.sampled_from([-1, 0, 1, None])
FLAG = st.sampled_from([True, False, None])
ZONES = st.sampled_from([None, timezone.utc, timezone(timedelta(hours=5, minutes=30))])
STAMPS = st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1), timezones=ZONES)

# Values a mutation puts in a field: the ones the importer must refuse, and ones it may take.
AWKWARD = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "nul\x00",
        "",
        " ",
        "1",
        "solution",
        2**31,
        2**31 - 1,
        -(2**31) - 1,
        10**30,
        -1,
        0,
        1,
        2,
        1.5,
        float("nan"),
        float("inf"),
        True,
        False,
        None,
        [],
        {},
    ]
)
SCALARS = st.one_of(AWKWARD, st.integers(), st.floats(), st.text(max_size=8), st.booleans())
JUNK = st.one_of(
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=6,
    ),
    st.integers(28, 36).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)
# What replaces a literal in the JSON text: nesting json.loads cannot read, numbers it reads
# as no JSON number, a number too long to read, escapes of what no store can hold.
LITERALS = st.sampled_from(
    [
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "NaN",
        "-Infinity",
        "1e999",
        "9" * 5000,
        '"\\ud800"',
        '"\\u0000"',
        '"\\ud83d\\ude00"',
        "00",
        '"',
    ]
)
LITERAL = re.compile(r"null|true|false|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
WHOLE_LINE = ("invalid JSON: ", "not UTF-8 text", "expected an object, got ")
# Stands where each line gets a problem of its own; it has nothing a text mutation changes.
SALT = "@salt@ "
NONCES = itertools.count()
# A field's path: names, [index] and ["quoted key"] (a key that is not a name, such as ":").
PATH_PART = r'(?:[^\s:"\[]|\[\d+\]|\["(?:[^"\\]|\\.)*"\]|\[)+'
FIELD = re.compile(rf"{PATH_PART}(?: {PATH_PART})*: \S")


@st.composite
def human_completions(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(TEXT.filter(str.strip))
    return {"text": text, "rating": draw(RATING), "source": "human", "flagged": draw(FLAG)}


@st.composite
def labelled_step(draw: st.DrawFn, pre_generated: str | None) -> dict[str, Any]:
    """One step of ``label.steps``; ``pre_generated``: the step its first completion must be."""
    kind = draw(st.sampled_from(["completions", "completions", "human", "empty"]))
    if kind == "completions" or pre_generated is not None:
        texts = draw(st.lists(TEXT, min_size=1, max_size=3))
        if pre_generated is not None:
            texts[0] = pre_generated
        return {
            "completions": [
                {"text": text, "rating": draw(RATING), "flagged": draw(FLAG)} for text in texts
            ],
            "human_completion": draw(st.none() | human_completions()),
            "chosen_completion": draw(st.none() | st.integers(0, len(texts) - 1)),
        }
    return {
        "completions": draw(st.sampled_from([[], None])),
        "human_completion": draw(human_completions()) if kind == "human" else None,
        "chosen_completion": None,
    }


@st.composite
def valid_lines(draw: st.DrawFn) -> dict[str, Any]:
    """A line the importer must take: phase 1, or phase 2 with a whole solution."""
    question: dict[str, Any] = {"problem": draw(TEXT), "ground_truth_answer": draw(TEXT)}
    labelled = draw(st.integers(0, 4))
    follows: list[str | None] = [None] * labelled
    if draw(st.booleans()):
        pre = draw(st.lists(TEXT, max_size=6))
        question["pre_generated_steps"] = pre
        question["pre_generated_verifier_score"] = draw(st.floats(0, 1))
        if draw(st.booleans()):  # the labelled steps follow the solution, so far as it goes
            follows = [pre[p] if p < len(pre) else None for p in range(labelled)]
    return {
        "labeler": draw(TEXT.filter(bool)),
        "timestamp": draw(STAMPS).isoformat(),
        "generation": draw(st.none() | st.integers(-INT32 - 1, INT32)),
        "is_quality_control_question": draw(st.booleans()),
        "is_initial_screening_question": draw(st.booleans()),
        "question": question,
        "label": {
            "steps": [draw(labelled_step(text)) for text in follows],
            "total_time": draw(st.none() | st.integers(0, INT32)),
            "finish_reason": draw(st.sampled_from(FINISH_REASONS)),
        },
    }


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in ``value``, itself first."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*at, index))
    return found


def _mutated(draw: st.DrawFn, line: Any) -> Any:
    """``line`` with one value replaced, deleted or given a new neighbour."""
    path = draw(st.sampled_from(_paths(line)))
    if not path:
        return draw(JUNK)
    parent = line
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(JUNK)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(TEXT)] = draw(JUNK)
    else:
        parent.insert(path[-1], draw(JUNK))
    return line


@st.composite
def line_texts(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A line's bytes, and whether it is a valid line left as it was (it must be taken)."""
    line = json.loads(json.dumps(draw(st.sampled_from(SAMPLE_LINES) | valid_lines())))
    kept = draw(st.integers(0, 4)) == 0
    for _ in range(0 if kept else draw(st.integers(1, 3))):
        line = _mutated(draw, line)
    question = line.get("question") if isinstance(line, dict) else None
    if isinstance(question, dict) and isinstance(question.get("problem"), str):
        question["problem"] = SALT + question["problem"]
    text = json.dumps(line, ensure_ascii=draw(st.booleans()))
    literals = list(LITERAL.finditer(text))
    if not kept and literals and draw(st.booleans()):
        at = draw(st.sampled_from(literals))
        text = text[: at.start()] + draw(LITERALS) + text[at.end() :]
    if not kept and draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    # A lone surrogate written raw is not UTF-8: the file then holds what Python would write.
    return text.encode("utf-8", "surrogatepass"), kept


def _canonical(line: dict[str, Any]) -> dict[str, Any]:
    """The line as an export gives it back: optional fields it left out as null (or false)."""
    out = {
        "generation": None,
        "is_quality_control_question": False,
        "is_initial_screening_question": False,
        **line,
    }
    label = {"total_time": None, **line["label"]}
    label["steps"] = [
        {
            "completions": [{"rating": None, "flagged": None, **c} for c in s["completions"]]
            if s.get("completions")
            else s.get("completions"),
            "human_completion": s.get("human_completion"),
            "chosen_completion": s.get("chosen_completion"),
        }
        for s in label["steps"]
    ]
    out["label"] = label
    return out


def _key(line: dict[str, Any]) -> str:
    return json.dumps(line, sort_keys=True)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=int(os.environ.get("LABWIDGET_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=line_texts(), good=valid_lines())
def test_a_line_imports_exactly_or_fails_as_one_line(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: tuple[bytes, bool],
    good: dict[str, Any],
) -> None:
    # Flush every row at once, so that the good line really reaches the database first.
    monkeypatch.setattr("labwidget.store._batch.FLUSH_ROWS", 1)
    nonce = next(NONCES)
    raw, kept = text[0].replace(SALT.encode(), f"{nonce}a ".encode(), 1), text[1]
    good["question"]["problem"] = f"{nonce}b {good['question']['problem']}"
    path = tmp_path / f"fuzz{nonce}.jsonl"
    path.write_bytes(json.dumps(good).encode() + b"\n" + raw + b"\n")
    dataset = path.stem
    with lw.Store(store_url) as store:
        before = store.stats()
        try:
            counts = import_prm800k(store, path, dataset=dataset)
        except FormatError as exc:
            refusal = str(exc)
        else:
            refusal = None
        event("imported" if refusal is None else "refused")
        if refusal is None:
            # A line cut to nothing is a blank line, which is skipped.
            sent = [good, *([json.loads(raw.decode("utf-8"))] if raw.strip() else [])]
            assert counts["lines"] == len(sent)
            exported = sorted(map(_key, export_prm800k(store, dataset=dataset)))
            assert exported == sorted(_key(_canonical(line)) for line in sent)
            after = store.stats()
        else:
            assert not kept, refusal
            assert "\n" not in refusal
            where, _, reason = refusal.partition(f"{path}:2: ")
            assert where == "", refusal
            assert reason.startswith(WHOLE_LINE) or FIELD.match(reason), refusal
            assert store.stats() == before
            after = before
    code, out, err = _cli("import", store_url, str(path), "--format", "prm800k",
                          "--dataset", dataset, "--no-progress")  # fmt: skip
    if refusal is None:
        read = f"read {counts['lines']} lines: 0 new items, 0 new labels\n"
        assert (code, out, err) == (0, read, "")
    else:
        assert (code, out, err) == (1, "", f"labwidget: {' '.join(refusal.split())}\n")
    with lw.Store(store_url) as store:
        assert store.stats() == after


def test_a_key_that_is_not_a_name_is_quoted_in_the_path(tmp_path: Path) -> None:
    """A key such as ":" is named in quotes, and the reason still reads as field: problem."""
    line = json.loads(json.dumps(SAMPLE_LINES[0]))
    line["question"][":"] = "a\x00b"
    path = tmp_path / "colon.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with lw.Store(tmp_path / "colon.db") as store, pytest.raises(FormatError) as refused:
        import_prm800k(store, path)
    reason = str(refused.value).partition(f"{path}:1: ")[2]
    assert reason.startswith('question[":"]: holds a NUL (U+0000) at character 2')
    assert FIELD.match(reason)
