"""Writing export rows out: a JSONL file, a Parquet file, or a ``datasets.Dataset`` in memory.

pyarrow and datasets are optional; without them only JSONL works, and the error names the
``pip install`` that adds them.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from labwidget.formats._errors import FormatError
from labwidget.formats.openr import export_openr, import_openr
from labwidget.formats.prm800k import export_prm800k, import_prm800k
from labwidget.formats.qwen import export_qwen, import_qwen
from labwidget.formats.shepherd import export_shepherd, import_shepherd
from labwidget.formats.trl import preference, stepwise, unpaired
from labwidget.store import Store

if TYPE_CHECKING:
    import datasets  # type: ignore[import-untyped]

ROWS: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
    "prm800k": export_prm800k,
    "trl-stepwise": stepwise,
    "trl-preference": preference,
    "trl-unpaired": unpaired,
    # Step-tag formats other PRM code reads (formats/shepherd.py, qwen.py, openr.py).
    "math-shepherd": export_shepherd,
    "qwen-prm": export_qwen,
    "openr": export_openr,
}
# The formats a file can be imported from, each with its importer.
IMPORTS: dict[str, Callable[..., dict[str, int]]] = {
    "prm800k": import_prm800k,
    "math-shepherd": import_shepherd,
    "qwen-prm": import_qwen,
    "openr": import_openr,
}
# Column types per format, as pyarrow type names; a preference "margin" is added when present.
COLUMNS = {
    "trl-stepwise": {"prompt": "string", "completions": "list<string>", "labels": "list<bool>"},
    "trl-preference": {"prompt": "string", "chosen": "string", "rejected": "string"},
    "trl-unpaired": {"prompt": "string", "completion": "string", "label": "bool"},
    "math-shepherd": {"input": "string", "label": "string", "task": "string"},
    "openr": {"question": "string", "process": "string", "label": "list<string>"},
}


def rows(store: Store, format: str, **options: Any) -> Iterator[dict[str, Any]]:
    """The rows of one export format, checking the format's name and its options first."""
    make = ROWS.get(format)
    if make is None:
        raise ValueError(f"unknown format {format!r}; one of {', '.join(ROWS)}")
    takes = [name for name in inspect.signature(make).parameters if name != "store"]
    for name in options:
        if name not in takes:
            raise ValueError(f"the {format} format takes {', '.join(takes)}, not {name}")
    return make(store, **options)


def export(
    store: Store,
    out: str | os.PathLike[str],
    *,
    format: str,
    progress: bool | None = False,
    **options: Any,
) -> int:
    """Write one export format to ``out`` and return the number of rows written.

    The file's extension picks the output: ``.jsonl`` or ``.parquet`` (TRL formats only). The
    file appears whole or not at all: rows go to a temporary file that replaces ``out`` last.

    Args:
        store: the store to read.
        out: the file to write.
        format: one of ``ROWS``: ``prm800k``, ``trl-stepwise``, ``trl-preference``,
            ``trl-unpaired``, ``math-shepherd``, ``qwen-prm`` or ``openr``.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).
        **options: the format's own options, such as ``neutral="drop"`` or ``dataset="x"``.
    """
    path = Path(out)
    if path.suffix not in (".jsonl", ".parquet"):
        raise ValueError(f"{out}: name the output .jsonl or .parquet")
    if path.suffix == ".parquet" and format not in COLUMNS:
        raise FormatError(f"{out}: the {format} format is written as JSONL only")
    disable = None if progress is None else not progress
    written = tqdm(
        rows(store, format, **options), unit=" rows", desc=format, disable=disable, leave=False
    )
    partial = path.with_name(f".{path.name}.partial")
    try:
        if path.suffix == ".jsonl":
            count = _write_jsonl(written, partial)
        else:
            table = _table(format, list(written))
            _pyarrow("parquet").parquet.write_table(table, partial)
            count = table.num_rows
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _pyarrow(extra: str) -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped]
        import pyarrow.parquet  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(f"this needs pyarrow: pip install 'labwidget[{extra}]'") from exc
    return pyarrow


def _table(format: str, rows: list[dict[str, Any]]) -> Any:
    """A pyarrow Table of ``rows`` with the format's column types, even when there are none."""
    pa = _pyarrow("parquet")
    types = {
        "string": pa.string(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
        "list<bool>": pa.list_(pa.bool_()),
    }
    schema = [(name, types[kind]) for name, kind in COLUMNS[format].items()]
    if rows and "margin" in rows[0]:
        schema.append(("margin", pa.float64()))
    return pa.Table.from_pylist(rows, schema=pa.schema(schema))


def to_dataset(store: Store, *, format: str, **options: Any) -> datasets.Dataset:
    """One TRL export format as a ``datasets.Dataset``, ready for a TRL trainer.

    Args:
        store: the store to read.
        format: one of ``COLUMNS``: the TRL formats, ``math-shepherd`` or ``openr``.
        **options: the format's own options, as for ``export``.

    Raises:
        ImportError: datasets is not installed; the message names the ``pip install``.
    """
    try:
        import datasets
    except ImportError as exc:
        raise ImportError("this needs datasets: pip install 'labwidget[datasets]'") from exc
    if format not in COLUMNS:
        raise FormatError(
            f"the {format} format is not a dataset format; one of {', '.join(COLUMNS)}"
        )
    table = _table(format, list(rows(store, format, **options)))
    return datasets.Dataset.from_list(
        table.to_pylist(), features=datasets.Features.from_arrow_schema(table.schema)
    )
