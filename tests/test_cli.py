"""The labwidget command: import and export through it, and one-line reasons when it fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import labwidget as lw
from labwidget import cli
from labwidget.store import _migrate
from tests.formats_support import fill

SAMPLE = Path(__file__).parent / "data" / "prm800k_sample.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_stats_and_export_through_the_command(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = run(capsys, "import", store_url, str(SAMPLE), "--format", "prm800k", "--no-progress")
    assert imported == (0, "read 5 lines: 4 new items, 36 new labels\n", "")
    again = run(capsys, "import", store_url, str(SAMPLE), "--format", "prm800k")
    assert again == (0, "read 5 lines: 0 new items, 0 new labels\n", "")
    # 17 steps: the divisors line's item holds its whole pre-generated solution, 4 steps.
    assert run(capsys, "stats", store_url) == (
        0,
        "items: 4\nsteps: 17\nlabel_events: 36\ncomparisons: 0\npreference_events: 0\n"
        "annotators: 2\n",
        "",
    )
    out = tmp_path / "out.jsonl"
    exported = run(capsys, "export", store_url, str(out), "--format", "prm800k")
    assert exported == (0, f"wrote 5 rows to {out}\n", "")
    sample = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        json.loads(line) for line in sample
    ]
    steps = tmp_path / "steps.jsonl"
    args = ("--format", "trl-stepwise", "--neutral", "drop", "--dataset", "prm800k")
    assert run(capsys, "export", store_url, str(steps), *args)[0] == 0
    assert len(steps.read_text(encoding="utf-8").splitlines()) == 8


def test_db_init_and_upgrade_create_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "new.db")
    assert run(capsys, "db", "init", path) == (0, f"schema at {_migrate.HEAD}\n", "")
    assert run(capsys, "db", "upgrade", path) == (0, f"schema at {_migrate.HEAD}\n", "")
    assert run(capsys, "stats", path)[1].startswith("items: 0\n")


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    line = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    line["label"]["finish_reason"] = "done"
    path.write_text(SAMPLE.read_text(encoding="utf-8") + json.dumps(line) + "\n")
    return path


def test_failures_exit_1_with_one_line_and_no_traceback(
    tmp_path: Path,
    bad_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, missing = str(tmp_path / "s.db"), str(tmp_path / "missing.jsonl")
    nowhere, out = str(tmp_path / "nowhere.db"), str(tmp_path / "x.jsonl")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database\n" * 100)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    cases = {
        ("import", store, missing, "--format", "prm800k"): (
            f"{missing}: No such file or directory"
        ),
        ("import", store, str(bad_file), "--format", "prm800k"): (
            f"{bad_file}:6: label.finish_reason: expected one of solution, found_error, "
            'bad_problem, give_up, got "done"'
        ),
        ("import", store, str(SAMPLE), "--format", "csv"): "cannot import 'csv'; one of prm800k",
        ("stats", str(garbage)): f"{garbage} is not a labwidget store: SQLite cannot read it",
        ("stats", nowhere): f"there is no store at {nowhere}; check the path",
        ("export", str(garbage), out, "--format", "prm800k"): f"{garbage} is not a",
        ("export", store, out, "--format", "trl-dpo"): (
            "cannot export 'trl-dpo'; one of prm800k, trl-stepwise, trl-preference, trl-unpaired"
        ),
        ("stats", "postgresql+psycopg://nobody@127.0.0.1:9/none"): "cannot open postgresql",
    }
    for argv, reason in cases.items():
        code, printed, err = run(capsys, *argv)
        assert (code, printed) == (1, ""), argv
        assert err.startswith(f"labwidget: {reason}"), err
        assert err.count("\n") == 1, err
    # The failed import made the (empty) store it was asked to import into, and nothing else.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "garbage.db", "s.db"]
    assert run(capsys, "stats", store)[1].startswith("items: 0\n")

    assert run(capsys, "import", store, str(SAMPLE), "--format", "prm800k")[0] == 0
    parquet = str(tmp_path / "x.parquet")
    assert run(capsys, "export", store, parquet, "--format", "trl-stepwise") == (
        1,
        "",
        "labwidget: this needs pyarrow: pip install 'labwidget[parquet]'\n",
    )
    assert run(capsys, "export", store, out, "--format", "trl-unpaired", "--ties", "x")[2] == (
        "labwidget: the trl-unpaired format takes dataset, annotator, score_threshold, not ties\n"
    )


def test_a_usage_error_is_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "s.db", "out.jsonl"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "labwidget: the following arguments are required: --format (see labwidget --help)\n"
    )


def test_every_format_is_listed_and_the_step_formats_go_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    formats = "prm800k, trl-stepwise, trl-preference, trl-unpaired, math-shepherd, qwen-prm, openr"
    store_path = tmp_path / "s.db"
    with lw.Store(store_path) as store:
        fill(store, neutral_step=False)
    code, _, err = run(capsys, "export", str(store_path), "o.jsonl", "--format", "nope")
    assert (code, err) == (1, f"labwidget: cannot export 'nope'; one of {formats}\n")
    for name in ("math-shepherd", "qwen-prm", "openr"):
        out = tmp_path / f"{name}.jsonl"
        assert run(capsys, "export", str(store_path), str(out), "--format", name)[0] == 0
        back = tmp_path / f"{name}.db"
        assert run(capsys, "import", str(back), str(out), "--format", name) == (
            0,
            "read 3 lines: 3 new items, 5 new labels\n",
            "",
        )
    tagged = tmp_path / "ki.jsonl"
    run(capsys, "export", str(store_path), str(tagged), "--format", "openr", "--step-tag", "ки")
    assert "ки" in tagged.read_text(encoding="utf-8")
    code, out, _ = run(
        capsys,
        "import",
        str(tmp_path / "k.db"),
        str(tagged),
        "--format",
        "openr",
        "--step-tag",
        "ки",
    )
    assert (code, out) == (0, "read 3 lines: 3 new items, 5 new labels\n")
