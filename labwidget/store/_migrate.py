"""Schema versions: Alembic revisions shipped in the package, run on a connection we own."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from labwidget.store._engine import READ_ONLY
from labwidget.store._errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of labwidget knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The schema revision the database is at, or None when it has none."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (the newest by default), in one transaction."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def known_revisions() -> set[str]:
    """Every revision this version of labwidget ships."""
    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def prepare(engine: sa.Engine, where: str, *, may_upgrade: bool) -> None:
    """Check that ``engine`` holds a labwidget store at the newest schema, upgrading if allowed.

    A database with foreign tables, or one written by a newer labwidget, is refused untouched;
    an out-of-date one is upgraded when ``may_upgrade`` is set, and refused with the command that
    fixes it otherwise.
    """
    head = head_revision()
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            current = current_revision(connection)
            tables = sa.inspect(connection).get_table_names()
    except sa.exc.DatabaseError as exc:
        raise StoreError(f"cannot open {where}: {exc.orig}") from exc
    if current == head:
        return
    if current is None and tables:
        raise StoreError(
            f"{where} holds tables but is not a labwidget store; it was left untouched. "
            "Pass a new file name or an empty database to create a store."
        )
    if current is not None and current not in known_revisions():
        raise StoreError(
            f"{where} was written by a newer labwidget (schema {current}); "
            "upgrade labwidget to open it."
        )
    if not may_upgrade:
        raise StoreError(
            f"the schema of {where} is out of date ({current or 'empty'}, need {head}); "
            f"run: labwidget db upgrade {where}"
        )
    upgrade(engine)
