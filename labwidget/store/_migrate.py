"""Schema versions: Alembic revisions shipped in the package, run on a connection we own."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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
