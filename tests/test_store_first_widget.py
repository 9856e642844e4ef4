"""What the store does for the first widget shown: its item commits without waiting for the
disk (every label still does), and the reads that show it are compiled as the store opens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import CacheStats

import labwidget as lw

STEPS = ["3*4=12", "2+12=14", "So 14."]


def commit_levels(store: lw.Store) -> list[Any]:
    """How durable each commit of ``store`` is, in order: SQLite's ``synchronous`` level
    (1 NORMAL, 2 FULL) or PostgreSQL's ``synchronous_commit``, read as it commits."""
    query = "PRAGMA synchronous" if store.backend == "sqlite" else "SHOW synchronous_commit"
    levels: list[Any] = []

    @sa.event.listens_for(store._engine, "commit")
    def _level(connection: sa.Connection) -> None:
        levels.append(connection.exec_driver_sql(query).scalar())

    return levels


def test_a_batch_that_need_not_be_durable_commits_without_waiting_for_the_disk(
    store: lw.Store,
) -> None:
    levels = commit_levels(store)
    with store.batch(durable=False) as batch:
        batch.add_item("p", ["a"])
    with store.batch() as batch:
        batch.add_item("q", ["b"])
    with store.batch(durable=False) as batch:
        batch.add_item("r", ["c"])
    lazy, durable = (1, 2) if store.backend == "sqlite" else ("off", "on")
    assert levels == [lazy, durable, lazy]
    assert [item["prompt"] for item in store.items()] == ["p", "q", "r"]


def test_without_write_ahead_logging_every_commit_waits_for_the_disk(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """NORMAL is durable-by-the-next-commit only in WAL: a file left in rollback mode gets FULL."""
    monkeypatch.setattr("labwidget.store._core.enable_wal", lambda engine: None)
    store = lw.Store(tmp_path / "labels.db")
    levels = commit_levels(store)
    with store.batch(durable=False) as batch:
        batch.add_item("p", ["a"])
    assert levels == [2]


def test_a_labeler_writes_its_item_lazily_and_every_label_durably(store: lw.Store) -> None:
    levels = commit_levels(store)
    labeler = lw.StepLabeler(prompt="What is 2+3*4?", steps=STEPS, store=store)
    store.record_label(item=labeler.item_id, step=0, value=1)
    lazy, durable = (1, 2) if store.backend == "sqlite" else ("off", "on")
    assert levels == [lazy, durable]


def test_a_sqlite_store_compiles_a_labelers_reads_as_it_opens(tmp_path: Any) -> None:
    """SQLAlchemy compiles a statement on first use; the first labeler shown finds them ready."""
    store = lw.Store(tmp_path / "labels.db")
    compiled: list[str] = []

    @sa.event.listens_for(store._engine, "after_cursor_execute")
    def _first_use(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context.cache_hit is CacheStats.CACHE_MISS:
            compiled.append(statement)

    lw.StepLabeler(prompt="What is 2+3*4?", steps=STEPS, store=store)
    assert compiled == []
