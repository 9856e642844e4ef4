"""Token scores kept with their item: float32 bit for bit, compact, checked, on both backends."""

from __future__ import annotations

import logging
import sqlite3
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

import labwidget as lw
from labwidget import cli
from labwidget.store import _migrate, init_database
from labwidget.store._engine import make_engine, resolve_url

TOKENS = ["2", " +", " 2", "\n", "=", " 4", "\x00é"]
# Not float32 values: they are rounded once on the way in, and read back as those float32.
SCORES = [-0.1, -1e-8, -2.5, -0.7, -30.25, -1 / 3, 0.0]
FLOAT32 = list(struct.unpack("<7f", struct.pack("<7f", *SCORES)))
META = {"distribution": "sampling", "about": "log-prob under the sampling distribution"}


@pytest.fixture
def item(store: lw.Store) -> str:
    return store.add_item("q", ["2 + 2", "= 4 é"])


def test_scores_come_back_as_the_stored_float32_bit_for_bit(store: lw.Store, item: str) -> None:
    assert store.token_scores(item) is None
    store.add_token_scores(item, TOKENS, SCORES, [4, 3], kind="logprob", meta=META)
    kept = store.token_scores(item)
    assert kept is not None
    assert struct.pack("<7f", *kept["scores"]) == struct.pack("<7f", *SCORES)
    assert kept["scores"] == FLOAT32
    assert {k: v for k, v in kept.items() if k not in ("scores", "created_at")} == {
        "item": item,
        "kind": "logprob",
        "tokens": [*TOKENS[:-1], "\ufffdé"],  # NUL separates tokens, so a NUL becomes U+FFFD
        "step_token_counts": [4, 3],
        "meta": META,
    }


def test_a_lone_surrogate_in_a_token_is_kept_as_a_replacement_character(store: lw.Store) -> None:
    item = store.add_item("q", ["ab"])
    store.add_token_scores(item, ["a", "\ud800b"], [0.0, -1.0], [2])
    assert store.token_scores(item)["tokens"] == ["a", "\ufffdb"]  # type: ignore[index]


def test_the_first_scores_kept_stay(store: lw.Store, item: str) -> None:
    store.add_token_scores(item, TOKENS, SCORES, [4, 3], kind="logprob")
    store.add_token_scores(item, TOKENS, [0.0] * 7, [4, 3], kind="entropy")
    kept = store.token_scores(item)
    assert kept is not None
    assert (kept["kind"], kept["scores"]) == ("logprob", FLOAT32)


def test_scores_are_compact_binary(tmp_path: Path) -> None:
    with lw.Store(tmp_path / "labels.db") as store:
        item = store.add_item("q", ["a"])
        store.add_token_scores(item, ["a"] * 1000, [-0.5] * 1000, [1000])
    with sqlite3.connect(tmp_path / "labels.db") as con:
        kinds = con.execute(
            "SELECT typeof(tokens), typeof(scores), length(scores) FROM token_scores"
        )
        assert kinds.fetchall() == [("blob", "blob", 4000)]
    con.close()


@pytest.mark.parametrize(
    ("tokens", "scores", "counts", "kind", "message"),
    [
        (TOKENS, SCORES, [4, 3], "prob", "token scores are one of logprob, entropy, score"),
        (TOKENS, SCORES[:-1], [4, 3], "logprob", "7 tokens but 6 scores"),
        (TOKENS, [*SCORES[:-1], float("nan")], [4, 3], "logprob", "score 6 is nan"),
        (TOKENS, [*SCORES[:-1], 1e39], [4, 3], "logprob", "score 6 is 1e\\+39"),
        (TOKENS, SCORES, [7], "logprob", "1 step token counts for the item's 2 steps"),
        (TOKENS, SCORES, [4, 2], "logprob", "adding up to 7"),
        (TOKENS, SCORES, [4.0, 3], "logprob", "must be ints"),
        ("2+2", SCORES, [4, 3], "logprob", "tokens must be a list of strings"),
        (TOKENS, ["x"] * 7, [4, 3], "logprob", "scores must be floats"),
    ],
)
def test_scores_that_do_not_add_up_are_refused(
    store: lw.Store, item: str, tokens: Any, scores: Any, counts: Any, kind: str, message: str
) -> None:
    with pytest.raises(lw.LabelError, match=message):
        store.add_token_scores(item, tokens, scores, counts, kind=kind)
    assert store.token_scores(item) is None


def test_scores_of_an_item_that_is_not_there_are_refused(store: lw.Store) -> None:
    with pytest.raises(lw.LabelError, match="there is no item 'nope'"):
        store.add_token_scores("nope", ["a"], [0.0], [1])


def test_a_batch_keeps_items_and_their_scores_together(store: lw.Store) -> None:
    with store.batch() as batch:
        ids = [batch.add_item(f"q{i}", [f"a{i}", "b"]) for i in range(300)]
        for i, item in enumerate(ids):
            batch.add_token_scores(item, [f"a{i}", "\n", "b"], [-i, -1.0, 0.5], [2, 1])
    assert [store.token_scores(item)["scores"] for item in ids[298:]] == [  # type: ignore[index]
        [-298.0, -1.0, 0.5],
        [-299.0, -1.0, 0.5],
    ]

    def half_written() -> None:
        with store.batch() as batch:
            item = batch.add_item("lost", ["x"])
            batch.add_token_scores(item, ["x"], [0.0], [1])
            batch.add_token_scores(item, ["x"], [0.0], [2])

    with pytest.raises(lw.LabelError, match="adding up to 1"):
        half_written()
    assert len(store.items()) == 300


def test_a_row_that_does_not_add_up_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "labels.db"
    with lw.Store(path) as store:
        item = store.add_item("q", ["a"])
        store.add_token_scores(item, ["a", "b"], [0.0, 1.0], [2])
    with sqlite3.connect(path) as con:
        con.execute("UPDATE token_scores SET scores = x'0000c07f0000'")  # NaN and a stray half
    con.close()
    with lw.Store(path) as store, caplog.at_level(logging.WARNING, logger="labwidget.store"):
        assert store.token_scores(item) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"skipped the token scores of item {item}, which do not add up: "
        "6 bytes of scores are not whole float32 values"
    ]


def test_an_old_store_gets_the_table_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(resolve_url(path))
    _migrate.upgrade(engine, "0003")
    engine.dispose()
    with lw.Store(path) as store:
        item = store.add_item("q", ["a"])
        store.add_token_scores(item, ["a"], [-0.25], [1])
        assert store.token_scores(item)["scores"] == [-0.25]  # type: ignore[index]
    engine = make_engine(resolve_url(path))
    with engine.begin() as connection:
        command.downgrade(_migrate._config(connection), "0003")
        assert "token_scores" not in sa.inspect(connection).get_table_names()
    engine.dispose()


@pytest.fixture
def annotator_url(pg_url: str) -> Iterator[str]:
    """A real login role in the annotator group, on a store set up by ``labwidget db init``."""
    import psycopg

    init_database(pg_url)
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    name = f"lw_ann_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE labwidget_annotator')
        try:
            yield make_url(pg_url).set(username=name).render_as_string(False)
        finally:
            connection.execute(f'DROP OWNED BY "{name}"')
            connection.execute(f'DROP ROLE "{name}"')


def test_an_annotator_keeps_scores_with_an_item_but_cannot_change_them(annotator_url: str) -> None:
    with lw.Store(annotator_url) as store:
        item = store.add_item("q", ["a"])
        store.add_token_scores(item, ["a"], [-0.5], [1], meta=META)
        assert store.token_scores(item)["scores"] == [-0.5]  # type: ignore[index]
    engine = sa.create_engine(annotator_url)
    for statement in ("UPDATE token_scores SET scores = ''", "DELETE FROM token_scores"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), engine.begin() as c:
            c.exec_driver_sql(statement)
    engine.dispose()


def test_a_team_store_upgraded_from_before_gives_annotators_the_new_table(pg_url: str) -> None:
    import psycopg

    engine = make_engine(resolve_url(pg_url))
    _migrate.upgrade(engine, "0003")
    engine.dispose()
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    name = f"lw_ann_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        # As `labwidget db init` left a 0003 store: the group reads every table there was.
        connection.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            "'labwidget_annotator') THEN CREATE ROLE labwidget_annotator NOLOGIN; END IF; END $$"
        )
        connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO labwidget_annotator")
        connection.execute("GRANT INSERT ON items, steps TO labwidget_annotator")
        connection.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE labwidget_annotator')
        try:
            assert cli.main(["db", "upgrade", pg_url]) == 0
            with lw.Store(make_url(pg_url).set(username=name).render_as_string(False)) as store:
                item = store.add_item("q", ["a"])
                store.add_token_scores(item, ["a"], [-0.5], [1])
                assert store.token_scores(item)["scores"] == [-0.5]  # type: ignore[index]
        finally:
            connection.execute(f'DROP OWNED BY "{name}"')
            connection.execute(f'DROP ROLE "{name}"')
