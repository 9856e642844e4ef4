"""PRM800K values no store can hold: one line naming file, line and field, from the API and the CLI.

Each case here was a traceback, a message without a line, or a silent change before: deep
nesting (RecursionError), numbers past a column's range (OverflowError on SQLite, "integer out
of range" on PostgreSQL), lone surrogates and NUL (an encoding error, or U+FFFD in place of the
character), ``NaN`` (refused by PostgreSQL's json, kept by SQLite) and ratings given as strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget import cli
from labwidget.formats import FormatError, export_prm800k, import_prm800k

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
GOOD = SAMPLE.read_text(encoding="utf-8").splitlines()
STEP1 = ("label", "steps", 1)
HUMAN = ("label", "steps", 2, "human_completion")
SURROGATE = (
    "which no store can hold as text; fix the text (was it decoded with the wrong encoding?)"
)
EMPTY = {
    "items": 0,
    "steps": 0,
    "label_events": 0,
    "comparisons": 0,
    "preference_events": 0,
    "annotators": 0,
}


def _set(path: tuple[Any, ...], value: Any) -> Callable[[str], str]:
    """Set the field at ``path`` of the first sample line."""

    def change(text: str) -> str:
        line = target = json.loads(text)
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return json.dumps(line)

    return change


def _text(old: str, new: str) -> Callable[[str], str]:
    """Replace JSON text in the first sample line, for what ``json.dumps`` cannot write."""

    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return change


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


BAD_VALUES = {
    "arrays 5,000 deep in generation": (
        _text('"generation": null', '"generation": ' + "[" * 5000 + "]" * 5000),
        "generation[0][0][0]…: nested deeper than 32 levels",
    ),
    "objects 100,000 deep": (
        lambda text: '{"a":' * 100_000 + "1" + "}" * 100_000,
        "a.a.a.a…: nested deeper than 32 levels",
    ),
    "nesting json reads but a store should not keep": (
        _set(("question", "x"), _nested(40)),
        "question.x[0][0]…: nested deeper than 32 levels",
    ),
    "a total_time of 10^30": (
        _set(("label", "total_time"), 10**30),
        "label.total_time: expected milliseconds (0 to 2147483647) or null, "
        "got 1000000000000000000000000000000",
    ),
    "a total_time past PostgreSQL's INTEGER": (
        _set(("label", "total_time"), 2**31),
        "label.total_time: expected milliseconds (0 to 2147483647) or null, got 2147483648",
    ),
    "a total_time with a fraction": (
        _set(("label", "total_time"), 1.5),
        "label.total_time: expected milliseconds (0 to 2147483647) or null, got 1.5",
    ),
    "a generation of 10^30": (
        _set(("generation",), 10**30),
        "generation: expected a whole number from -2147483648 to 2147483647 or null, "
        "got 1000000000000000000000000000000",
    ),
    "a generation given as true": (
        _set(("generation",), True),
        "generation: expected a whole number from -2147483648 to 2147483647 or null, got true",
    ),
    "an integer of 5,000 digits": (
        _text('"ground_truth_answer": "14"', '"ground_truth_answer": ' + "7" * 5000),
        "question.ground_truth_answer: a whole number of 5000 digits is too long to store",
    ),
    "NaN in the question": (
        _text('"ground_truth_answer": "14"', '"ground_truth_answer": NaN'),
        "question.ground_truth_answer: expected a finite number, got NaN",
    ),
    "1e999 in the question": (
        _text('"ground_truth_answer": "14"', '"ground_truth_answer": 1e999'),
        "question.ground_truth_answer: expected a finite number, got Infinity",
    ),
    "Infinity as a rating": (
        _set((*STEP1, "completions", 0, "rating"), float("inf")),
        "label.steps[1].completions[0].rating: expected -1, 0, 1 or null, got Infinity",
    ),
    "a rating given as true": (
        _set((*STEP1, "completions", 0, "rating"), True),
        "label.steps[1].completions[0].rating: expected -1, 0, 1 or null, got true",
    ),
    "a human_completion rating given as a string": (
        _set((*HUMAN, "rating"), "1"),
        'label.steps[2].human_completion.rating: expected -1, 0, 1 or null, got "1"',
    ),
    "a human_completion corrected_rating of 2": (
        _set((*HUMAN, "corrected_rating"), 2),
        "label.steps[2].human_completion.corrected_rating: expected -1, 0, 1 or null, got 2",
    ),
    "a human_completion flag given as a number": (
        _set((*HUMAN, "flagged"), 0),
        "label.steps[2].human_completion.flagged: expected true, false or null, got 0",
    ),
    "a human_completion source given as a number": (
        _set((*HUMAN, "source"), 3),
        "label.steps[2].human_completion.source: expected a string or null, got 3",
    ),
    "a lone surrogate in the labeler": (
        _set(("labeler",), "Jos\ud800"),
        f"labeler: holds a lone surrogate (U+D800) at character 4, {SURROGATE}",
    ),
    "a lone surrogate in a step": (
        _set((*STEP1, "completions", 0, "text"), "x = \udfff"),
        "label.steps[1].completions[0].text: holds a lone surrogate (U+DFFF) at character 5, "
        + SURROGATE,
    ),
    "a lone surrogate in a free field of human_completion": (
        _set((*HUMAN, "note"), ["ok", "\udc80"]),
        f"label.steps[2].human_completion.note[1]: holds a lone surrogate (U+DC80) at character "
        f"1, {SURROGATE}",
    ),
    "a lone surrogate in a key of question": (
        _set(("question", "x\udc80"), 1),
        f'question: the key "x\\udc80" holds a lone surrogate (U+DC80) at character 2, {SURROGATE}',
    ),
    "a NUL in the problem": (
        _set(("question", "problem"), "What\x00"),
        "question.problem: holds a NUL (U+0000) at character 5, which PostgreSQL cannot store; "
        "remove it",
    ),
    "pre_generated_steps that are not strings": (
        _set(("question", "pre_generated_steps"), ["a", 2]),
        'question.pre_generated_steps: expected a list of strings or null, got ["a", 2]',
    ),
    "a timestamp out of range in UTC": (
        _set(("timestamp",), "0001-01-01T00:00:00+05:00"),
        'timestamp: "0001-01-01T00:00:00+05:00" is out of range in UTC',
    ),
    "a timestamp given as a number": (
        _set(("timestamp",), 1663005764),
        "timestamp: expected an ISO 8601 time, got 1663005764",
    ),
    "steps given as an object": (
        _set(("label", "steps"), {}),
        "label.steps: expected a list, got {}",
    ),
    "completions given as a string": (
        _set((*STEP1, "completions"), "x"),
        'label.steps[1].completions: expected a list or null, got "x"',
    ),
    "a question given as a list": (_set(("question",), []), "question: expected an object, got []"),
    "a chosen completion given as true": (
        _set((*STEP1, "chosen_completion"), True),
        "label.steps[1].chosen_completion: expected an index into completions (0 to 3) or null, "
        "got true",
    ),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value_is_one_line_from_the_api_and_the_cli_and_stores_nothing(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    # Flush every row at once, so that the good lines really reach the database first.
    monkeypatch.setattr("labwidget.store._batch.FLUSH_ROWS", 1)
    break_line, message = BAD_VALUES[case]
    path = tmp_path / "prm800k.jsonl"
    path.write_text("\n".join([GOOD[0], GOOD[1], break_line(GOOD[0])]) + "\n", encoding="utf-8")
    with lw.Store(store_url) as store:
        with pytest.raises(FormatError) as raised:
            import_prm800k(store, path)
        assert str(raised.value) == f"{path}:3: {message}"
        assert store.stats() == EMPTY
    code = cli.main(["import", store_url, str(path), "--format", "prm800k", "--no-progress"])
    assert (code, *capsys.readouterr()) == (1, "", f"labwidget: {path}:3: {message}\n")
    with lw.Store(store_url) as store:
        assert store.stats() == EMPTY


def test_numbers_at_the_columns_limits_are_kept(store: lw.Store) -> None:
    line = json.loads(GOOD[0])
    line["label"]["total_time"] = 2**31 - 1
    line["generation"] = -(2**31)
    line["question"]["x"] = {"big": 10**30, "small": -1.5e-300, "deep": _nested(29)}
    import_prm800k(store, [json.dumps(line)])
    assert list(export_prm800k(store)) == [line]


def test_text_beyond_the_basic_plane_is_kept(store: lw.Store) -> None:
    line = json.loads(GOOD[0])
    line["labeler"] = "Zoë 🦉"
    line["question"]["problem"] = "Is \U0001d4b3 > 𝜋?"
    text = json.dumps(line)  # astral characters as escaped surrogate pairs: "\ud83e\udd89"
    assert "\\ud83e\\udd89" in text
    import_prm800k(store, [text])
    assert list(export_prm800k(store)) == [line]


def test_a_byte_order_mark_before_the_first_line_is_read_past(
    store: lw.Store, tmp_path: Path
) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(SAMPLE.read_bytes().decode("utf-8").encode("utf-8-sig"))
    assert import_prm800k(store, path)["lines"] == 5


def test_a_raw_surrogate_in_lines_given_as_strings_names_the_field(store: lw.Store) -> None:
    line = json.loads(GOOD[0])
    line["labeler"] = "Jos\ud800"
    with pytest.raises(FormatError) as raised:
        import_prm800k(store, [GOOD[1], json.dumps(line, ensure_ascii=False)])
    assert str(raised.value) == (
        f"<lines>:2: labeler: holds a lone surrogate (U+D800) at character 4, {SURROGATE}"
    )
    assert store.stats() == EMPTY


def test_what_cannot_be_a_line_or_a_name_is_refused(store: lw.Store) -> None:
    with pytest.raises(FormatError, match=r"^<lines>:2: expected a string, got bytes$"):
        import_prm800k(store, [GOOD[0], GOOD[1].encode()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^dataset must be 1 to 200 characters of text, not ''$"):
        import_prm800k(store, GOOD, dataset="")
    with pytest.raises(ValueError, match=r"^dataset must be 1 to 200 characters"):
        import_prm800k(store, GOOD, dataset="d" * 201)
    assert store.stats() == EMPTY
