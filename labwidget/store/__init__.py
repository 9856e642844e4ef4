"""The label store: one API over an embedded SQLite file or a shared PostgreSQL database.

Plain dicts go in and come out. Labels are append-only events; the current label of a step is
the newest event for it, so history is never lost and undo is just another event.

``Store`` is put together from one class per concept, each in its own module: ``_core``
(engine, transactions, batches), ``_items``, ``_labels`` (events, preferences, undo), ``_reads``
(labels, history, whole-store passes), ``_feed`` (the training feed's reads), ``_work``
(claims and the queue) and ``_figures`` (summary and settings). Only this package reads or
writes the tables.
"""

from __future__ import annotations

import contextlib
import os

import sqlalchemy as sa

from labwidget.store import _migrate, _postgres
from labwidget.store._batch import Batch
from labwidget.store._engine import make_engine, resolve_url
from labwidget.store._errors import LabelError, StoreError
from labwidget.store._events import (
    MAX_DURATION_MS,
    AtAlternative,
    LabelFields,
    Noted,
    Provenance,
    StepSpec,
    alternatives_of,
    clean_text,
    content_id,
)
from labwidget.store._feed import NOT_LABELS, Feed, StoreHandle
from labwidget.store._figures import Figures
from labwidget.store._items import Items
from labwidget.store._labels import Labels
from labwidget.store._reads import Reads
from labwidget.store._work import Work
from labwidget.store.schema import FINISH_REASONS, KINDS, PREFERENCES, SCORE_KINDS

__all__ = [
    "FINISH_REASONS",
    "KINDS",
    "MAX_DURATION_MS",
    "NOT_LABELS",
    "PREFERENCES",
    "SCORE_KINDS",
    "AtAlternative",
    "Batch",
    "LabelError",
    "LabelFields",
    "Noted",
    "Provenance",
    "StepSpec",
    "Store",
    "StoreError",
    "StoreHandle",
    "alternatives_of",
    "clean_text",
    "content_id",
    "init_database",
]


class Store(Items, Labels, Reads, Feed, Work, Figures):
    """A label store at a file path (SQLite, created on first open) or a database URL.

    Args:
        target: a file path such as ``"labels.db"``, or a URL such as
            ``"postgresql+psycopg://alice@db.lab/labels"``.
        annotator: whose labels these are. Defaults to the login name on SQLite and to the
            database role on PostgreSQL, where row-level security holds each role to its own.
    """

    def __init__(self, target: str | os.PathLike[str], *, annotator: str | None = None) -> None:
        super().__init__(target, annotator=annotator)
        if self.backend == "sqlite":
            # The reads a labeler runs to show its item, run once on nothing while the store
            # opens: SQLAlchemy compiles each statement on its first use (~1-2 ms apiece),
            # which would otherwise fall on the first widget shown. On PostgreSQL each would
            # be a round trip.
            with contextlib.suppress(KeyError):
                self.item("")
            self.labels(item="", annotator=self.annotator, kind=None)
            self.token_scores("")
            self.settings()


def init_database(target: str | os.PathLike[str], *, secure: bool = True) -> str:
    """Create or upgrade a store's schema; on PostgreSQL also set up what annotators may do.

    After this, members of the ``labwidget_annotator`` role can read everything but write
    labels and claims only under their own role name, and add items, steps and alternatives
    only through the store's functions. ``secure=False`` sets up no rules where there are none,
    but brings rules an earlier ``init_database`` set up to the current ones. Returns the
    schema revision.
    """
    url = resolve_url(target)
    if url.get_backend_name() == "sqlite":
        Store(target).close()
        return _migrate.head_revision()
    where = url.render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        _migrate.prepare(engine, where, may_upgrade=True)
        with engine.begin() as connection:
            if secure or _postgres.is_secured(connection):
                _postgres.secure(connection)
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"cannot set up {where}: {exc.orig}") from exc
    finally:
        engine.dispose()
    return _migrate.head_revision()
