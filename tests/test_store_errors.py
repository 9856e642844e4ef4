"""A store file that cannot be opened is refused with what it is and what to do, untouched.

Permissions do not bind root, which most CI containers run as: the permission cases open the
store in a child process that ``setpriv`` has stripped of root's two overrides
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so the kernel checks file modes for it as for any
user. Without root the child runs as the same user, and the modes bind it already.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import labwidget as lw

OPEN = """
import sys
from labwidget.store import Store, StoreError
try:
    Store(sys.argv[1]).close()
except StoreError as exc:
    print(exc)
"""


def open_as_a_user(path: Path) -> str:
    """Open a store at ``path`` as a process that file modes hold back; the refusal, or ""."""
    bounded = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    command = [*(bounded if os.geteuid() == 0 else []), sys.executable, "-c", OPEN, str(path)]
    package_root = str(Path(lw.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": package_root}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in ``directory``: its bytes and modification time in nanoseconds."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def make_store(path: Path) -> None:
    with lw.Store(path) as store:
        item = store.add_item("q", ["a", "b"])
        store.record_label(item=item, step=0, value=1)


def test_a_read_only_store_file_is_reported_as_read_only(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    make_store(path)
    path.chmod(0o444)
    before = snapshot(tmp_path)
    refusal = open_as_a_user(path)
    assert refusal.startswith(f"{path} is read-only")
    assert f"chmod u+w {path}" in refusal
    assert snapshot(tmp_path) == before
    path.chmod(0o644)
    assert open_as_a_user(path) == ""  # the same process opens it once it may write


def test_a_store_file_without_read_permission_says_so(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    make_store(path)
    path.chmod(0o000)
    before = {p.name for p in tmp_path.iterdir()}
    refusal = open_as_a_user(path)
    assert refusal.startswith(f"no permission to read {path}")
    assert {p.name for p in tmp_path.iterdir()} == before


def test_a_directory_that_is_not_writable_is_named(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o555)
    refusal = open_as_a_user(directory / "labels.db")
    assert refusal.startswith(f"no permission to create files in {directory}")
    assert "labels.db and labels.db-wal and labels.db-shm" in refusal
    assert list(directory.iterdir()) == []


def test_a_directory_is_not_a_store_file(tmp_path: Path) -> None:
    with pytest.raises(lw.StoreError, match="is a directory, not a store file") as refused:
        lw.Store(tmp_path)
    assert str(tmp_path / "labels.db") in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "labels.db"
    with pytest.raises(lw.StoreError, match=r"the directory .*runs does not exist") as refused:
        lw.Store(path)
    assert f"mkdir -p {tmp_path / 'runs'}" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    before = snapshot(tmp_path)
    with pytest.raises(lw.StoreError, match="not a labwidget store"):
        lw.Store(path)
    assert snapshot(tmp_path) == before


def test_a_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE mine (x)")
    con.close()
    before = snapshot(tmp_path)
    with pytest.raises(lw.StoreError, match="not a labwidget store"):
        lw.Store(path)
    assert snapshot(tmp_path) == before


def test_a_damaged_store_is_refused_and_left_exactly_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    with lw.Store(path) as store, store.batch() as batch:
        item = batch.add_item("q", [f"step {n}" for n in range(50)])
        for n in range(3_000):
            batch.record("rating", item=item, step=n % 50, value=1, event_id=f"e{n}")
    data = bytearray(path.read_bytes())
    page = 4096
    data[5 * page : 7 * page] = b"\xff" * (2 * page)  # smash two pages in the middle
    path.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    assert list(before) == ["labels.db"]
    with pytest.raises(lw.StoreError, match=r"is damaged \(.*left untouched: restore it"):
        lw.Store(path)
    # Nothing beside it either: no -wal or -shm from looking at it.
    assert snapshot(tmp_path) == before
