"""Migration 0007: a store labeled before the work queue gets it filled in, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import labwidget as lw
from labwidget.store import _migrate, init_database
from labwidget.store._engine import make_engine, resolve_url

BEFORE = "0006"
ROWS = (
    "INSERT INTO items VALUES ('i1', 'default', 'q1', '{}', NULL, '2026-01-01 00:00:00+00')",
    "INSERT INTO items VALUES ('i2', 'default', 'q2', '{}', NULL, '2026-01-01 00:00:01+00')",
    "INSERT INTO items VALUES ('i3', 'default', 'q3', '{}', NULL, '2026-01-01 00:00:02+00')",
    *(f"INSERT INTO steps VALUES ('i{n}', 0, 0, 'a', true)" for n in (1, 2, 3)),
    *(
        "INSERT INTO label_events (event_id, item_id, step, alt, kind, value, annotator, "
        f"source, created_at) VALUES ('{event}', '{item}', 0, 0, 'rating', 1, '{who}', "
        f"'{source}', '2026-01-01 00:00:03+00')"
        for event, item, who, source in (
            ("e1", "i1", "alice", "human"),
            ("e2", "i1", "bob", "human"),
            ("e3", "i1", "alice", "human"),
            ("e4", "i2", "auto:mc", "auto:mc"),
        )
    ),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store at the schema before 0007 holding three items, two people's labels, a machine's."""
    url = (
        str(tmp_path / "old.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    engine = make_engine(resolve_url(url))
    _migrate.upgrade(engine, BEFORE)
    with engine.begin() as connection:
        for row in ROWS:
            connection.exec_driver_sql(row)
    engine.dispose()
    return url


def test_an_old_store_gets_its_queue_and_people_counted(old_store: str) -> None:
    init_database(old_store, secure=False)
    with lw.Store(old_store) as store:
        people = {row["item"]: row["people"] for row in store.queue(["i1", "i2", "i3"])}
        assert people == {"i1": 2, "i2": 0, "i3": 0}
        # The machine's label leaves i2 open to a person; i1 has two people already.
        assert store.claim(5, annotator="carol", overlap=2) == ["i2", "i3"]
        assert store.claim(5, annotator="dave", overlap=3) == ["i1", "i2", "i3"]
        store.record("adjudication", item="i1", step=0, value=1, annotator="lead")


def test_a_downgrade_takes_the_queue_and_the_new_kinds_away(old_store: str) -> None:
    init_database(old_store, secure=False)
    with lw.Store(old_store) as store:
        store.record("prediction", item="i1", step=0, value=1, score=0.9, source="model:m")
    engine = make_engine(resolve_url(old_store))
    with engine.begin() as connection:
        from alembic import command

        command.downgrade(_migrate._config(connection), BEFORE)
        tables = sa.inspect(connection).get_table_names()
        kinds = connection.exec_driver_sql("SELECT DISTINCT kind FROM label_events").scalars()
        assert ("item_queue" in tables, "item_people" in tables) == (False, False)
        assert set(kinds) == {"rating"}
    engine.dispose()
