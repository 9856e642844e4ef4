"""A team's shared PostgreSQL store: schema management and row-level security with real roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import labwidget as lw
from labwidget.store import _migrate, init_database
from labwidget.store._engine import make_engine, resolve_url


@pytest.fixture
def secured_url(pg_url: str) -> str:
    assert init_database(pg_url) == _migrate.head_revision()
    return pg_url


@pytest.fixture
def roles(secured_url: str) -> Iterator[dict[str, str]]:
    """Two real login roles in the annotator group, and a store URL for each."""
    admin = make_url(secured_url).set(drivername="postgresql").render_as_string(False)
    names = {who: f"lw_{who}_{uuid.uuid4().hex[:8]}" for who in ("alice", "bob")}
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE labwidget_annotator')
        try:
            yield {
                who: make_url(secured_url).set(username=name).render_as_string(False)
                for who, name in names.items()
            } | {f"{who}_role": name for who, name in names.items()}
        finally:
            for name in names.values():
                connection.execute(f'DROP OWNED BY "{name}"')
                connection.execute(f'DROP ROLE "{name}"')


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


def test_the_annotator_is_the_database_role(roles: dict[str, str]) -> None:
    with lw.Store(roles["alice"]) as store:
        assert store.annotator == roles["alice_role"]
        item = store.add_item("q", ["a"])
        store.record_label(item=item, step=0, value=1)
        assert [e["annotator"] for e in store.labels()] == [roles["alice_role"]]


def test_an_annotator_cannot_write_labels_under_another_name(roles: dict[str, str]) -> None:
    with lw.Store(roles["alice"]) as alice, lw.Store(roles["bob"]) as bob:
        item = alice.add_item("q", ["a"])
        with pytest.raises(lw.LabelError, match="only your own labels"):
            alice.record_label(item=item, step=0, value=-1, annotator=roles["bob_role"])

        def import_as_bob() -> None:
            with alice.batch() as batch:
                for n in range(1_500):  # large enough to take the COPY path
                    batch.record(
                        "rating", item=item, step=0, value=1, event_id=f"e{n}",
                        annotator=roles["bob_role"],
                    )  # fmt: skip

        with pytest.raises(lw.LabelError, match="only your own labels"):
            import_as_bob()
        assert alice.events() == []
        pair = alice.add_comparison("q", "a", "b")
        with pytest.raises(lw.LabelError, match="only your own labels"):
            alice.record_preference(pair, "a", annotator=roles["bob_role"])
        bob.record_label(item=item, step=0, value=1)
        assert [e["annotator"] for e in alice.labels()] == [roles["bob_role"]]


def test_an_annotator_cannot_claim_for_another_or_edit_items(roles: dict[str, str]) -> None:
    with lw.Store(roles["alice"]) as alice:
        item = alice.add_item("q", ["a"])
        with pytest.raises(lw.LabelError, match="only your own"):
            alice.claim(1, annotator=roles["bob_role"])
        assert alice.claim(1) == [item]
    engine = sa.create_engine(roles["alice"])
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), engine.begin() as c:
        c.exec_driver_sql("UPDATE items SET prompt = 'rewritten'")
    engine.dispose()


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
