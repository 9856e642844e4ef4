"""OpenR rows {question, process, label}: the preprocess layout, out and back in."""

from __future__ import annotations

from pathlib import Path

import pytest

import labwidget as lw
from labwidget.formats import FormatError, export, export_openr, import_openr, to_dataset
from tests.formats_support import A1, A2, B1, B2, C1, Q1, Q2, Q3, fill, items, lines

TAG = "\n\n\n\n\n"


@pytest.fixture
def small(tmp_path: Path) -> lw.Store:
    store = lw.Store(tmp_path / "small.db", annotator="tester")
    fill(store)
    return store


def test_rows_follow_openrs_converter_with_neutral_as_plus(small: lw.Store) -> None:
    assert list(export_openr(small)) == [
        {"question": Q1, "process": f"{A1} {TAG} {A2} {TAG}", "label": ["+", "+"]},
        {"question": Q2, "process": f"{B1} {TAG} {B2} {TAG}", "label": ["+", "-"]},
        {"question": Q3, "process": f"{C1} {TAG}", "label": ["-"]},
    ]
    assert next(export_openr(small, step_tag="ки"))["process"] == f"{A1} ки {A2} ки"


def test_neutral_policies(small: lw.Store) -> None:
    assert [row["label"] for row in export_openr(small, neutral="false")][1] == ["-", "-"]
    assert [row["question"] for row in export_openr(small, neutral="drop")] == [Q1, Q3]


@pytest.mark.parametrize("tag", [TAG, "ки"])
def test_round_trip(store: lw.Store, tmp_path: Path, tag: str) -> None:
    fill(store, neutral_step=False)
    out = tmp_path / "openr.jsonl"
    assert export(store, out, format="openr", step_tag=tag) == 3
    with lw.Store(tmp_path / "back.db") as back:
        assert import_openr(back, out, step_tag=tag) == {"lines": 3, "items": 3, "events": 5}
        assert [(p, s) for p, s, _ in items(back)] == [(p, s) for p, s, _ in items(store)]
        again = tmp_path / "again.jsonl"
        export(back, again, format="openr", step_tag=tag)
    assert lines(again) == lines(out)


def test_parquet_and_datasets(small: lw.Store, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    rows = to_dataset(small, format="openr")
    assert rows[2] == {"question": Q3, "process": f"{C1} {TAG}", "label": ["-"]}
    assert export(small, tmp_path / "o.parquet", format="openr") == 3


def test_numeric_labels_as_openrs_trainer_reads_them(tmp_path: Path) -> None:
    line = '{"question": "Why?", "process": "a ки b ки", "label": [1, 0]}'
    with lw.Store(tmp_path / "s.db") as store:
        import_openr(store, [line], step_tag="ки")
        assert [e["value"] for e in store.labels()] == [1, -1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "q", "label": ["+"]}', "<lines>:1: process: missing"),
        ('{"question": "q", "process": "a", "label": ["+"]}', "process: expected steps"),
        ('{"question": "q", "process": "a ки", "label": ["?"]}', "label\\[0\\]: expected"),
        ('{"question": "q", "process": "a ки", "label": ["+", "-"]}', "2 labels for 1 steps"),
    ],
)
def test_bad_lines_are_refused_by_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    with lw.Store(tmp_path / "s.db") as store, pytest.raises(FormatError, match=message):
        import_openr(store, [line], step_tag="ки")
