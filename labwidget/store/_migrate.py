"""Schema versions: Alembic revisions shipped in the package, run on a connection we own.

Opening a store already at the newest schema takes one SELECT compared with ``HEAD``. Alembic
(and Mako, which it loads) is imported only to upgrade or refuse a schema: that keeps about 40 ms
and 15,000 objects, which every full garbage collection walks, out of ``import labwidget``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from labwidget.store._engine import READ_ONLY
from labwidget.store._errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision under migrations/versions; a test checks that Alembic finds the same one.
HEAD = "0008"


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of labwidget knows, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The schema revision the database is at, or None when it has none."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (the newest by default), in one transaction."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def known_revisions() -> set[str]:
    """Every revision this version of labwidget ships."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def prepare(engine: sa.Engine, where: str, *, may_upgrade: bool) -> None:
    """Check that ``engine`` holds a labwidget store at the newest schema, upgrading if allowed.

    A database with foreign tables, or one written by a newer labwidget, is refused untouched;
    an out-of-date one is upgraded when ``may_upgrade`` is set, and refused with the command that
    fixes it otherwise.
    """
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            tables = sa.inspect(connection).get_table_names()
            if "alembic_version" in tables and _versions(connection) == [HEAD]:
                return
            current = current_revision(connection)
    except sa.exc.DatabaseError as exc:
        raise StoreError(f"cannot open {where}: {exc.orig}") from exc
    head = head_revision()
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


def _versions(connection: sa.Connection) -> list[str]:
    """The revisions in Alembic's version table, read without loading Alembic."""
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
    return [str(version) for version in rows.scalars()]
