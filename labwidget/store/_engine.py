"""Engine setup: SQLite in WAL mode with immediate write transactions, or a PostgreSQL pool."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from labwidget.store._errors import StoreError

BUSY_TIMEOUT_S = 30.0
READ_ONLY = {"labwidget_read_only": True}


def resolve_url(target: str | os.PathLike[str]) -> URL:
    """A database URL for a file path or URL; a bare path means an embedded SQLite file."""
    text = os.fspath(target)
    if "://" in text:
        url = make_url(text)
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url
    return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database, or a damaged one, without writing to it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in con.execute("PRAGMA quick_check(3)")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreError(
                f"{path} is not a labwidget store: SQLite cannot read it ({exc}). "
                "It was left untouched; pass a new file name to create a store."
            ) from exc
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StoreError(
            f"{path} is damaged ({'; '.join(problems)}). It was left untouched: restore it "
            "from a backup, or try the sqlite3 shell's .recover command on a copy."
        )


def make_engine(url: URL) -> sa.Engine:
    """An engine for ``url``; SQLite connections get WAL, a busy timeout and durable commits."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level so that we, not pysqlite, decide how transactions begin.
        dbapi_connection.isolation_level = None
        for pragma in (
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={int(BUSY_TIMEOUT_S * 1000)}",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A write transaction takes the lock up front: a deferred one that later upgrades can
        # fail with "database is locked" at once, whatever the busy timeout says.
        if connection.get_execution_options().get("labwidget_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def enable_wal(engine: sa.Engine) -> None:
    """Switch a SQLite file to write-ahead logging (it stays so): readers never block writers."""
    # On the raw connection: SQLAlchemy would open a transaction first, where SQLite refuses it.
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
