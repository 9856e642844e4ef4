from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import labwidget as lw
from labwidget.store import _migrate, content_id
from labwidget.store._engine import make_engine, resolve_url


def test_same_prompt_and_steps_make_one_item(store: lw.Store) -> None:
    first = store.add_item("2+2?", ["2+2=4", "so 4"])
    again = store.add_item("2+2?", ["2+2=4", "so 4"])
    other = store.add_item("2+2?", ["2+2=5"])
    assert first == again == content_id("2+2?", ["2+2=4", "so 4"])
    assert other != first
    assert [i["steps"] for i in store.items()] == [["2+2=4", "so 4"], ["2+2=5"]]


def test_item_keeps_dataset_meta_and_source(store: lw.Store) -> None:
    meta = {"model": "tiny", "temperature": 0.7, "nested": {"k": [1, 2]}}
    store.add_item("q", ["a"], dataset="arith", meta=meta, source="notebook")
    (item,) = store.items(dataset="arith")
    assert (item["dataset"], item["meta"], item["source"]) == ("arith", meta, "notebook")
    assert store.items(dataset="other") == []


def test_a_retried_event_id_is_stored_once(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    assert store.record_label(event_id="ev-1", item=item, step=1, value=1) is True
    assert store.record_label(event_id="ev-1", item=item, step=1, value=1) is False
    assert len(store.events()) == 1


def test_newest_event_is_the_label_and_history_stays(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    store.record_label(event_id="e1", item=item, step=0, value=1)
    store.record_label(event_id="e2", item=item, step=0, value=-1)
    store.record_label(event_id="e3", item=item, step=1, value=0, annotator="other")
    assert [(r["step"], r["value"], r["annotator"]) for r in store.labels()] == [
        (0, -1, "tester"),
        (1, 0, "other"),
    ]
    assert [e["value"] for e in store.events()] == [1, -1, 0]
    assert store.step_ratings(item) == [-1, None]
    assert store.step_ratings(item, annotator="other") == [None, 0]


@pytest.mark.parametrize("value", [7, -2, True, 1.0, "1"])
def test_a_value_that_is_not_a_rating_is_refused(store: lw.Store, value: object) -> None:
    item = store.add_item("q", ["a"])
    with pytest.raises(lw.LabelError, match="-1, 0 or \\+1"):
        store.record_label(event_id="bad", item=item, step=0, value=value)  # type: ignore[arg-type]
    assert store.events() == []


def test_a_label_for_a_missing_step_is_refused(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    with pytest.raises(lw.LabelError, match="no step 3"):
        store.record_label(event_id="e", item=item, step=3, value=1)
    with pytest.raises(lw.LabelError, match="no step 0"):
        store.record_label(event_id="e", item="nope", step=0, value=1)
    assert store.events() == []


def test_a_committed_label_is_visible_to_a_second_connection(store_url: str) -> None:
    with lw.Store(store_url, annotator="a") as writer, lw.Store(store_url) as reader:
        item = writer.add_item("q", ["a"])
        writer.record_label(event_id="e", item=item, step=0, value=1)
        assert [r["value"] for r in reader.labels()] == [1]


def test_sqlite_store_runs_in_wal_mode_at_the_newest_schema(tmp_path: Path) -> None:
    lw.Store(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0006",)


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(lw.StoreError, match="not a labwidget store"):
        lw.Store(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE mine (x)")
    before = path.read_bytes()
    with pytest.raises(lw.StoreError, match="not a labwidget store"):
        lw.Store(path)
    assert path.read_bytes() == before


def test_threads_writing_at_once_lose_nothing(store: lw.Store) -> None:
    item = store.add_item("q", [f"s{i}" for i in range(10)])
    errors: list[BaseException] = []

    def label(worker: int) -> None:
        try:
            for n in range(25):
                store.record_label(event_id=f"w{worker}-{n}", item=item, step=n % 10, value=1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=label, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.events()) == 100


def test_a_damaged_store_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    with lw.Store(path) as store, store.batch() as batch:
        item = batch.add_item("q", [f"step {n}" for n in range(50)])
        for n in range(3_000):
            batch.record("rating", item=item, step=n % 50, value=1, event_id=f"e{n}")
    data = bytearray(path.read_bytes())
    page = 4096
    data[5 * page : 7 * page] = b"\xff" * (2 * page)  # smash two pages in the middle
    path.write_bytes(bytes(data))
    with pytest.raises(lw.StoreError, match=r"is damaged \(.*left untouched"):
        lw.Store(path)
    assert path.read_bytes() == bytes(data)


def test_a_store_from_a_newer_labwidget_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    lw.Store(path).close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.close()
    before = path.read_bytes()
    with pytest.raises(lw.StoreError, match="newer labwidget \\(schema 9999\\)"):
        lw.Store(path)
    assert path.read_bytes() == before


def test_head_is_the_newest_migration() -> None:
    # A store at HEAD opens without Alembic, so a new migration must move HEAD with it.
    assert _migrate.head_revision() == _migrate.HEAD


def test_opening_a_store_at_the_newest_schema_does_not_load_alembic(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    lw.Store(path).close()
    code = (
        "import sys, labwidget; "
        f"labwidget.Store({str(path)!r}).close(); "
        "print(sorted(m for m in ('alembic', 'mako') if m in sys.modules))"
    )
    opened = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert opened.stdout.strip() == "[]"


def test_an_old_sqlite_store_is_upgraded_on_open_keeping_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(resolve_url(path))
    _migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO items VALUES ('i1', 'default', 'q', '{}', NULL, '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql("INSERT INTO steps VALUES ('i1', 0, 0, 'a', 1)")
        connection.exec_driver_sql(
            "INSERT INTO label_events (event_id, item_id, step, alt, kind, value, annotator, "
            "source, created_at) VALUES ('e1', 'i1', 0, 0, 'rating', -1, 'old', 'human', "
            "'2026-01-01 00:00:01')"
        )
    engine.dispose()
    with lw.Store(path) as store:
        assert [(e["event_id"], e["value"], e["annotator"]) for e in store.labels()] == [
            ("e1", -1, "old")
        ]
        store.finish(item="i1", reason="found_error")
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0006",)
    con.close()
