"""A team's shared PostgreSQL store: schema management and notifications (roles and attacks:
test_store_security.py)."""

from __future__ import annotations

import re

import psycopg
import pytest
from sqlalchemy.engine import make_url

import labwidget as lw
from labwidget.store import _migrate, init_database
from labwidget.store._engine import make_engine, resolve_url


@pytest.fixture
def secured_url(pg_url: str) -> str:
    assert init_database(pg_url) == _migrate.head_revision()
    return pg_url


def test_an_out_of_date_schema_is_refused_with_the_command_that_fixes_it(pg_url: str) -> None:
    engine = make_engine(resolve_url(pg_url))
    _migrate.upgrade(engine, "0001")
    engine.dispose()
    with pytest.raises(lw.StoreError, match=re.escape(f"run: labwidget db upgrade {pg_url}")):
        lw.Store(pg_url)
    init_database(pg_url)
    lw.Store(pg_url).close()


def test_an_empty_database_is_refused_until_initialised(pg_url: str) -> None:
    with pytest.raises(lw.StoreError, match="out of date \\(empty, need"):
        lw.Store(pg_url)


def test_init_is_idempotent(secured_url: str) -> None:
    assert init_database(secured_url) == _migrate.head_revision()


def test_new_labels_notify_listeners(secured_url: str) -> None:
    listener_url = make_url(secured_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(listener_url, autocommit=True) as listener, lw.Store(secured_url) as store:
        listener.execute("LISTEN labwidget_labels")
        item = store.add_item("q", ["a"])
        store.record_label(item=item, step=0, value=1)
        with store.batch() as batch:
            for n in range(1_500):
                batch.record("rating", item=item, step=0, value=1, event_id=f"bulk-{n}")
        notices = list(listener.notifies(timeout=2.0, stop_after=2))
    assert [n.channel for n in notices] == ["labwidget_labels", "labwidget_labels"]
