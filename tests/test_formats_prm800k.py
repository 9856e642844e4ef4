"""PRM800K JSONL: import keeps everything, export gives the lines back, bad lines name the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.formats import FormatError, export_prm800k, import_prm800k
from labwidget.store import content_id

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
EMPTY = {
    "items": 0,
    "steps": 0,
    "label_events": 0,
    "comparisons": 0,
    "preference_events": 0,
    "annotators": 0,
}


def sample_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_import_then_export_gives_back_the_same_lines(store: lw.Store) -> None:
    counts = import_prm800k(store, SAMPLE)
    assert counts == {"lines": 5, "items": 4, "events": 36}
    assert list(export_prm800k(store)) == sample_lines()
    assert list(export_prm800k(store, dataset="other")) == []


def test_importing_the_same_file_again_changes_nothing(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE)
    before = (store.stats(), store.events())
    assert import_prm800k(store, SAMPLE) == {"lines": 5, "items": 0, "events": 0}
    assert (store.stats(), store.events()) == before


def test_a_line_becomes_an_item_and_the_labelers_events(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE.read_text(encoding="utf-8").splitlines()[:1], dataset="p1")
    (item,) = store.items(dataset="p1")
    assert item["prompt"] == "What is $2 + 3 \\cdot 4$?"
    assert item["alternatives"] == [
        ["Multiplication comes first: $3 \\cdot 4 = 12$."],
        ["Then $2 + 12 = 15$.", "Now I add the 2.", "Then $2 + 12 = 14$.", "Let me check my work."],
        ["# Answer\n\n15", "# Answer\n\n12"],
    ]
    assert item["meta"] == {
        "question": {"ground_truth_answer": "14"},
        "generation": None,
        "is_quality_control_question": False,
        "is_initial_screening_question": False,
    }
    events = store.events(item=item["id"])
    assert {e["annotator"] for e in events} == {"1f7e4c58-aaaa-4b1e-9a0e-000000000001"}
    assert {e["created_at"] for e in events} == {"2022-09-12T18:02:44.118327+00:00"}
    assert [(e["kind"], e["step"], e["alt"], e["value"], e["text"]) for e in events] == [
        ("rating", 0, 0, 1, None),
        ("flag", 0, 0, 0, None),
        ("choice", 0, 0, 0, None),
        ("rating", 1, 0, -1, None),
        ("rating", 1, 1, 0, None),
        ("flag", 1, 1, 0, None),
        ("rating", 1, 2, 1, None),
        ("flag", 1, 2, 1, None),
        ("choice", 1, 0, 2, None),
        ("rating", 2, 0, -1, None),
        ("rating", 2, 1, -1, None),
        ("replacement", 2, 0, None, "# Answer\n\n14"),
        ("finish", None, 0, None, "solution"),
    ]
    assert events[11]["meta"] == {
        "human_completion": {
            "text": "# Answer\n\n14",
            "rating": None,
            "source": "human",
            "flagged": False,
            "corrected_rating": None,
        }
    }
    assert (events[-1]["duration_ms"], events[-1]["meta"]) == (
        91234,
        {"timestamp": "2022-09-12T18:02:44.118327"},
    )
    labeler, stamp = "1f7e4c58-aaaa-4b1e-9a0e-000000000001", "2022-09-12T18:02:44.118327"
    assert events[0]["event_id"] == content_id(labeler, stamp, item["id"], "rating", 0, 0)


def test_a_step_without_completions_holds_the_human_text(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE.read_text(encoding="utf-8").splitlines()[4:])
    (item,) = store.items()
    assert item["alternatives"] == [
        ["Subtract 1 from both sides: $x = 2$."],
        ["# Answer\n\n2"],
        [""],
    ]
    (finish,) = store.events(kind="finish")
    assert finish["meta"]["empty_steps"] == {"0": [], "2": None}
    assert [(r["step"], r["alt"], r["value"]) for r in store.labels()] == [(1, 0, 1)]


def test_the_same_solution_from_two_labelers_is_one_item(store: lw.Store) -> None:
    import_prm800k(store, SAMPLE)
    qc = [i for i in store.items() if i["meta"]["is_quality_control_question"]]
    assert len(qc) == 1
    ratings = {(e["annotator"][-1], e["step"]): e["value"] for e in store.labels(item=qc[0]["id"])}
    assert ratings == {("1", 0): 1, ("1", 1): 1, ("2", 0): 1, ("2", 1): -1}


def _json(line: dict[str, Any]) -> str:
    return json.dumps(line)


def _without_problem(line: dict[str, Any]) -> str:
    del line["question"]["problem"]
    return _json(line)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], str]:
    def change(line: dict[str, Any]) -> str:
        target = line
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return _json(line)

    return change


STEP1 = ("label", "steps", 1)
BAD_LINES = {
    "bad JSON": (
        lambda line: '{"labeler": "x", "timestamp": }',
        "invalid JSON: Expecting value (column 31)",
    ),
    "missing problem": (_without_problem, "question.problem: missing"),
    "bad rating": (
        _set((*STEP1, "completions", 0, "rating"), 5),
        "label.steps[1].completions[0].rating: expected -1, 0, 1 or null, got 5",
    ),
    "chosen out of range": (
        _set((*STEP1, "chosen_completion"), 4),
        "label.steps[1].chosen_completion: expected an index into completions (0 to 3) or null, "
        "got 4",
    ),
    "bad finish reason": (
        _set(("label", "finish_reason"), "finished"),
        "label.finish_reason: expected one of solution, found_error, bad_problem, give_up, "
        'got "finished"',
    ),
    "unknown field": (_set((*STEP1, "note"), "hm"), "label.steps[1].note: unexpected field"),
    "bad flag": (
        _set((*STEP1, "completions", 2, "flagged"), "yes"),
        'label.steps[1].completions[2].flagged: expected true, false or null, got "yes"',
    ),
    "flag given as a number": (
        _set((*STEP1, "completions", 0, "flagged"), 1),
        "label.steps[1].completions[0].flagged: expected true, false or null, got 1",
    ),
    "not an object": (lambda line: "[1, 2]", "expected an object, got [1, 2]"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_line_names_file_line_and_field_and_stores_nothing(
    store: lw.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    # Flush every row at once, so that the good lines really reach the database first.
    monkeypatch.setattr("labwidget.store._batch.FLUSH_ROWS", 1)
    break_line, message = BAD_LINES[case]
    good = SAMPLE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "prm800k.jsonl"
    path.write_text("\n".join([good[0], good[1], break_line(json.loads(good[0]))]) + "\n")
    with pytest.raises(FormatError) as raised:
        import_prm800k(store, path)
    assert str(raised.value) == f"{path}:3: {message}"
    assert store.stats() == EMPTY


def test_lines_given_as_strings_are_named_by_number(store: lw.Store) -> None:
    with pytest.raises(FormatError, match=r"^<lines>:2: invalid JSON"):
        import_prm800k(store, ["", "nope"])
    assert store.stats() == EMPTY


def test_a_file_that_is_not_utf8_names_the_line(store: lw.Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(SAMPLE.read_bytes() + '{"labeler": "Jos\xe9"}\n'.encode("latin-1"))
    with pytest.raises(FormatError, match=r"latin1.jsonl:6: not UTF-8 text$"):
        import_prm800k(store, path)


def test_progress_goes_to_stderr(store: lw.Store, capsys: pytest.CaptureFixture[str]) -> None:
    import_prm800k(store, SAMPLE, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "prm800k_sample.jsonl: 100%" in captured.err
