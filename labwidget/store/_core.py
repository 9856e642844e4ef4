"""What every part of ``Store`` stands on: the engine, its connections, and one-write batches.

``Store`` is composed of one class per concept (``_items``, ``_labels``, ``_reads``, ``_work``,
``_figures``), each built on ``StoreCore``: reads take a read-only connection from ``_read``,
writes go through ``_transaction`` (or a ``Batch``), so every part refuses and reports alike.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa

from labwidget.store import _migrate, _queries
from labwidget.store._batch import Batch
from labwidget.store._engine import (
    NOT_DURABLE,
    READ_ONLY,
    check_sqlite_file,
    enable_wal,
    make_engine,
    resolve_url,
)
from labwidget.store._errors import LabelError, StoreError

if TYPE_CHECKING:
    from typing import Self

T = TypeVar("T")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class StoreCore:
    """The engine of a store and the ways in and out of it; ``Store`` adds what it can do."""

    def __init__(self, target: str | os.PathLike[str], *, annotator: str | None = None) -> None:
        self.url = resolve_url(target)
        if self.url.get_backend_name() == "sqlite":
            assert self.url.database is not None
            check_sqlite_file(Path(self.url.database))
        self._engine = make_engine(self.url)
        try:
            self._open_schema()
            self.annotator = annotator or self._default_annotator()
        except Exception:
            self._engine.dispose()
            raise

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return str(self._engine.dialect.name)

    def _where(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _default_annotator(self) -> str:
        if self.backend != "postgresql":
            return _login_name()
        with self._read() as connection:
            return str(connection.exec_driver_sql("SELECT current_user").scalar_one())

    def _open_schema(self) -> None:
        # Only an embedded file upgrades itself; a shared database waits for its admin.
        _migrate.prepare(self._engine, self._where(), may_upgrade=self.backend == "sqlite")
        if self.backend == "sqlite":
            enable_wal(self._engine)

    def close(self) -> None:
        """Release every connection; the store object cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._where()!r})"

    def _read(self) -> sa.Connection:
        return self._engine.connect().execution_options(**READ_ONLY)

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sa.Connection]:
        """One write transaction; database refusals come out as LabelError or StoreError."""
        engine = self._engine if durable else self._engine.execution_options(**NOT_DURABLE)
        try:
            with engine.begin() as connection:
                if not durable and self.backend == "postgresql":
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield connection
        except sa.exc.IntegrityError as exc:
            raise LabelError(f"nothing was written: {exc.orig}") from exc
        except sa.exc.DBAPIError as exc:
            if "row-level security" in str(exc.orig):
                raise LabelError(
                    f"nothing was written: as {self.annotator!r} you can write only your own "
                    "labels and claims on this shared store"
                ) from exc
            raise StoreError(f"nothing was written: {exc.orig}") from exc

    @contextmanager
    def batch(self, *, durable: bool = True) -> Iterator[Batch]:
        """Write many items and labels in one transaction: all of them, or none on an error.

        Inside ``with store.batch() as batch:``, ``batch.add_item``, ``batch.record``,
        ``batch.add_comparison`` and ``batch.record_preference`` take the same arguments as the
        store's own methods; rows go out in chunks, and the commit comes at the end of the block.

        ``durable=False`` commits without waiting for the disk (SQLite's ``synchronous=NORMAL``
        in WAL mode, PostgreSQL's ``synchronous_commit=off``), for writes that are made again
        when lost, such as the item a widget shows: a crash may lose such a batch, but the next
        durable commit makes it durable with itself, so a label is never kept without its item.
        """
        with self._transaction(durable=durable) as connection:
            batch = Batch(self.annotator, connection)
            yield batch
            batch.flush()

    def _write_one(self, write: Callable[[Batch], T]) -> tuple[T, bool]:
        """``write`` one row into a batch of its own; its result, and whether an event was new."""
        with self.batch() as batch:
            result = write(batch)
            batch.flush()
            new = batch.written > 0
        return result, new

    def _item_shape(self, connection: sa.Connection, item: str) -> list[int]:
        """The number of alternatives at each step of ``item``."""
        return _queries.step_counts(connection.execute(_queries.ITEM_SHAPE, {"item": item}))
