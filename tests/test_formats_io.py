"""Export files: JSONL and Parquet read back as the rows, a datasets.Dataset, clear refusals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import labwidget as lw
from labwidget.formats import FormatError, export, import_prm800k, to_dataset

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"
QC_ROWS = [
    {"prompt": "What is $7 \\cdot 8$?", "completions": ["$7 \\cdot 8 = 56$.", "# Answer\n\n56"]},
    {"prompt": "What is $7 \\cdot 8$?", "completions": ["$7 \\cdot 8 = 56$.", "# Answer\n\n56"]},
    {"prompt": "What is $7 \\cdot 8$?", "completions": ["$7 \\cdot 8 = 56$."]},
]
QC_LABELS = [[True, True], [True, False], [True]]
QC_STEPWISE = [{**row, "labels": labels} for row, labels in zip(QC_ROWS, QC_LABELS, strict=True)]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder for export files alone (the SQLite store lives in tmp_path)."""
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


@pytest.fixture
def qc_store(store: lw.Store) -> lw.Store:
    """The sample's quality-control solution, labelled by two labelers, in dataset "qc"."""
    import_prm800k(store, SAMPLE.read_text(encoding="utf-8").splitlines()[2:4], dataset="qc")
    import_prm800k(store, SAMPLE.read_text(encoding="utf-8").splitlines()[:2])
    return store


def test_jsonl_export_reads_back_as_the_rows(qc_store: lw.Store, out_dir: Path) -> None:
    out = out_dir / "prm.jsonl"
    assert export(qc_store, out, format="trl-stepwise", dataset="qc") == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == QC_STEPWISE
    assert sorted(p.name for p in out_dir.iterdir()) == ["prm.jsonl"]


def test_prm800k_export_to_jsonl_gives_the_file_back(qc_store: lw.Store, out_dir: Path) -> None:
    out = out_dir / "again.jsonl"
    assert export(qc_store, out, format="prm800k", dataset="qc") == 2
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[2:4]
    assert out.read_text(encoding="utf-8").splitlines() == [
        json.dumps(json.loads(line), ensure_ascii=False) for line in lines
    ]


def test_parquet_export_reads_back_with_boolean_labels(qc_store: lw.Store, out_dir: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = out_dir / "prm.parquet"
    assert export(qc_store, out, format="trl-stepwise", dataset="qc", neutral="drop") == 3
    table = pq.read_table(out)
    assert str(table.schema.field("labels").type) == "list<element: bool>"
    assert table.to_pylist() == QC_STEPWISE


def test_an_empty_parquet_export_still_has_the_columns(store: lw.Store, out_dir: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    assert export(store, out_dir / "none.parquet", format="trl-unpaired") == 0
    assert pq.read_table(out_dir / "none.parquet").column_names == [
        "prompt",
        "completion",
        "label",
    ]


def test_preference_parquet_has_a_float_margin(store: lw.Store, out_dir: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    store.record_preference(store.add_comparison("q", "x", "y"), "b", strength=1)
    export(store, out_dir / "pairs.parquet", format="trl-preference")
    assert pq.read_table(out_dir / "pairs.parquet").to_pylist() == [
        {"prompt": "q", "chosen": "y", "rejected": "x", "margin": 1.0}
    ]


def test_to_dataset_gives_a_dataset_trl_can_take(qc_store: lw.Store) -> None:
    datasets = pytest.importorskip("datasets")
    dataset = to_dataset(qc_store, format="trl-stepwise", dataset="qc")
    assert isinstance(dataset, datasets.Dataset)
    assert dataset.features["labels"].feature.dtype == "bool"
    assert dataset.to_list() == QC_STEPWISE


def test_a_missing_optional_dependency_names_the_install(
    store: lw.Store, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(
        ImportError, match=r"^this needs pyarrow: pip install 'labwidget\[parquet\]'"
    ):
        export(store, out_dir / "x.parquet", format="trl-stepwise")
    with pytest.raises(ImportError, match=r"needs datasets: pip install 'labwidget\[datasets\]'$"):
        to_dataset(store, format="trl-stepwise")
    assert list(out_dir.iterdir()) == []


def test_what_cannot_be_written_is_refused(store: lw.Store, out_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"name the output \.jsonl or \.parquet"):
        export(store, out_dir / "x.csv", format="trl-stepwise")
    with pytest.raises(ValueError, match="unknown format 'trl-dpo'; one of prm800k, trl-stepwise"):
        export(store, out_dir / "x.jsonl", format="trl-dpo")
    with pytest.raises(
        ValueError, match="trl-preference format takes dataset, annotator, ties, not neutral"
    ):
        export(store, out_dir / "x.jsonl", format="trl-preference", neutral="true")
    with pytest.raises(FormatError, match="the prm800k format is written as JSONL only"):
        export(store, out_dir / "x.parquet", format="prm800k")
    with pytest.raises(FormatError, match="prm800k format is not a dataset format"):
        to_dataset(store, format="prm800k")
    assert list(out_dir.iterdir()) == []


def test_a_failed_export_leaves_an_existing_file_alone(store: lw.Store, out_dir: Path) -> None:
    out = out_dir / "pairs.jsonl"
    out.write_text("old\n")
    store.record_preference(store.add_comparison("q", "x", "y"), "tie")
    with pytest.raises(FormatError, match="is a tie"):
        export(store, out, format="trl-preference", ties="error")
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["pairs.jsonl"]
