"""Math-Shepherd rows: the dataset's exact layout out, and back in through import_shepherd."""

from __future__ import annotations

from pathlib import Path

import pytest

import labwidget as lw
from labwidget.formats import FormatError, export, export_shepherd, import_shepherd
from labwidget.formats.shepherd import parse_shepherd
from tests.formats_support import A1, A2, B1, B2, C1, Q1, Q2, Q3, fill, items, lines


@pytest.fixture
def small(tmp_path: Path) -> lw.Store:
    store = lw.Store(tmp_path / "small.db", annotator="tester")
    fill(store)
    return store


def test_rows_are_the_datasets_layout_with_neutral_as_plus(small: lw.Store) -> None:
    assert list(export_shepherd(small)) == [
        {
            "input": f"{Q1} {A1} ки\n{A2} ки",
            "label": f"{Q1} {A1} +\n{A2} +",
            "task": "gsm8k",
        },
        {"input": f"{Q2} {B1} ки\n{B2} ки", "label": f"{Q2} {B1} +\n{B2} -", "task": "math"},
        {"input": f"{Q3} {C1} ки", "label": f"{Q3} {C1} -", "task": "gsm8k"},
    ]


def test_neutral_policies(small: lw.Store) -> None:
    labels = [row["label"] for row in export_shepherd(small, neutral="false")]
    assert labels[1] == f"{Q2} {B1} -\n{B2} -"
    assert [row["input"] for row in export_shepherd(small, neutral="drop")] == [
        f"{Q1} {A1} ки\n{A2} ки",
        f"{Q3} {C1} ки",
    ]
    with pytest.raises(ValueError, match="neutral is one of false, true, drop"):
        list(export_shepherd(small, neutral="maybe"))


def test_filters(small: lw.Store) -> None:
    assert [row["task"] for row in export_shepherd(small, source="auto:mc")] == ["math"]
    assert len(list(export_shepherd(small, annotator="alice", dataset="gsm8k"))) == 2


def test_round_trip(store: lw.Store, tmp_path: Path) -> None:
    fill(store, neutral_step=False)
    out = tmp_path / "shepherd.jsonl"
    assert export(store, out, format="math-shepherd") == 3
    with lw.Store(tmp_path / "back.db") as back:
        counts = import_shepherd(back, out)
        assert counts == {"lines": 3, "items": 3, "events": 5}
        assert import_shepherd(back, out) == {"lines": 3, "items": 0, "events": 0}
        assert items(back) == items(store)
        assert [e["source"] for e in back.labels()] == ["auto:math-shepherd"] * 5
        again = tmp_path / "again.jsonl"
        export(back, again, format="math-shepherd")
    assert lines(again) == lines(out)


def test_the_published_rows_split_at_step_1(tmp_path: Path) -> None:
    # The first row of openr's preprocess/tests/samples_math-shepherd.jsonl, shortened.
    question = "Janet pays $40/hour for 3 hours. How much does she pay?"
    row = {
        "input": f"{question} Step 1: She pays 40 * 3 = <<40*3=120>>120. ки\n"
        "Step 2: The answer is: 120 ки",
        "label": f"{question} Step 1: She pays 40 * 3 = <<40*3=120>>120. +\n"
        "Step 2: The answer is: 120 -",
        "task": "GSM8K",
    }
    assert parse_shepherd(row, "x:1") == (
        question,
        ["Step 1: She pays 40 * 3 = <<40*3=120>>120.", "Step 2: The answer is: 120"],
        [1, -1],
    )
    # A tag inside the question (TRL's converter lists a dozen such rows): left out with its label.
    stray = {
        "input": "Mr. Rocky ки sells. Why? Step 1: a ки",
        "label": "Mr. Rocky + sells. Why? Step 1: a -",
    }
    assert parse_shepherd(stray, "x:2") == ("Mr. Rocky  sells. Why?", ["Step 1: a"], [-1])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "x.jsonl:2: invalid JSON"),
        ('{"label": "a +"}', "x.jsonl:2: input: missing"),
        ('{"input": "a", "label": "a"}', "x.jsonl:2: input: no 'ки' step tag"),
        ('{"input": "Why? a ки", "label": "Why? a ?"}', "x.jsonl:2: label: expected \\+ or -"),
        ('{"input": "Why? a ки", "label": "Who? a +"}', "x.jsonl:2: label: differs from input"),
        ('{"input": "a ки b", "label": "a + b"}', "x.jsonl:2: input: text after the last"),
        ('{"input": "no question a ки", "label": "no question a +"}', "cannot tell the question"),
    ],
)
def test_bad_lines_are_refused_by_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    good = '{"input": "Why? a ки", "label": "Why? a +"}'
    path = tmp_path / "x.jsonl"
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with lw.Store(tmp_path / "s.db") as store:
        with pytest.raises(FormatError, match=message):
            import_shepherd(store, path)
        assert store.stats()["items"] == 0  # nothing from the file is kept


def test_a_step_holding_the_tag_is_refused(tmp_path: Path) -> None:
    with lw.Store(tmp_path / "s.db") as store:
        item = store.add_item("Why?", ["a ки b"])
        store.record_label(item=item, step=0, value=1)
        with pytest.raises(FormatError, match=f"item '{item}': step 0 contains 'ки'"):
            list(export_shepherd(store))
