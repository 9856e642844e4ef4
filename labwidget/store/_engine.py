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
# A write whose commit need not wait for the disk (``Store.batch(durable=False)``).
NOT_DURABLE = {"labwidget_not_durable": True}


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
    """Refuse a path that cannot hold a store, saying what it is and what to do; write nothing.

    A directory, a missing directory, a file or directory without the permissions SQLite
    needs, a file that is not SQLite and a damaged one each get their own message. The check
    reads the file without creating the ``-wal`` and ``-shm`` files beside it, so a refused
    file is left exactly as it was.
    """
    check_access(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    wal, _ = _companions(path)
    # Without a write-ahead log to read, open the file as immutable: a read-only connection to a
    # WAL-mode file would otherwise create -wal and -shm beside it, even for a damaged file.
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    try:
        con = sqlite3.connect(f"{path.as_uri()}?{flags}", uri=True)
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
        if "malformed" not in str(exc):
            raise StoreError(f"cannot open {path}: {exc}. It was left untouched.") from exc
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StoreError(
            f"{path} is damaged ({'; '.join(problems)}). It was left untouched: restore it "
            "from a backup, or try the sqlite3 shell's .recover command on a copy."
        )


def check_access(path: Path) -> None:
    """Refuse a store path that is a directory, or that SQLite could not read and write.

    SQLite writes the store file and creates ``-wal`` and ``-shm`` files beside it, so it needs
    to write the file and, for whichever of those does not exist yet, its directory. Asked of
    the operating system for this process: running as root, permissions do not hold it back.
    """
    directory = path.parent
    if path.is_dir():
        raise StoreError(
            f"{path} is a directory, not a store file: pass a file path, such as "
            f"{path / 'labels.db'}"
        )
    if not directory.is_dir():
        raise StoreError(
            f"cannot create a store at {path}: the directory {directory} does not exist. "
            f"Create it first (mkdir -p {directory}) or pass another path."
        )
    if path.exists():
        if not os.access(path, os.R_OK):
            raise StoreError(
                f"no permission to read {path}. It was left untouched: open it as a user who "
                f"may read and write it (ls -l {path} shows its owner and mode), or open a copy."
            )
        if not os.access(path, os.W_OK):
            raise StoreError(
                f"{path} is read-only, and labwidget writes every label to it. It was left "
                f"untouched: make it writable (chmod u+w {path}), or open a writable copy."
            )
    missing = [p.name for p in (path, *_companions(path)) if not p.exists()]
    if missing and not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(
            f"no permission to create files in {directory}, where SQLite keeps "
            f"{' and '.join(missing)}: make the directory writable (chmod u+w {directory}), "
            "or put the store in one that is."
        )


def _companions(path: Path) -> tuple[Path, Path]:
    """The write-ahead log and shared-memory files SQLite keeps beside a store in WAL mode."""
    return path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")


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
        options = connection.get_execution_options()
        if options.get("labwidget_read_only"):
            connection.exec_driver_sql("BEGIN")
            return
        # Each write says whether its commit waits for the disk. In WAL mode one that does not
        # (NORMAL) is made durable by the next one that does (FULL), which syncs the log it
        # follows, so no durable commit can outlive the writes before it.
        # Outside WAL (a file system that refused it) NORMAL would be the only sync, so FULL.
        level = "FULL"
        if options.get("labwidget_not_durable"):
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            level = "NORMAL" if str(mode).lower() == "wal" else "FULL"
        info = connection.connection.info
        if info.get("synchronous") != level:
            connection.exec_driver_sql(f"PRAGMA synchronous={level}")
            info["synchronous"] = level
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
