"""The ``labwidget`` command: look at a store and manage its schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from labwidget.store import Store, StoreError, _migrate
from labwidget.store._engine import make_engine, resolve_url


def _db_upgrade(args: argparse.Namespace) -> None:
    engine = make_engine(resolve_url(args.url))
    try:
        _migrate.upgrade(engine)
    finally:
        engine.dispose()
    print(f"schema at {_migrate.head_revision()}")


def _stats(args: argparse.Namespace) -> None:
    with Store(args.store) as store:
        items = store.items()
        labels = store.labels()
    print(f"items: {len(items)}")
    print(f"current labels: {len(labels)}")
    print(f"annotators: {len({row['annotator'] for row in labels})}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (non-zero with a one-line reason on failure)."""
    parser = argparse.ArgumentParser(prog="labwidget", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    stats = commands.add_parser("stats", help="count items and labels in a store")
    stats.add_argument("store", help="a store file path or database URL")
    stats.set_defaults(run=_stats)
    db = commands.add_parser("db", help="manage a store's schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    for name in ("init", "upgrade"):
        action = db_commands.add_parser(name, help="create or upgrade the schema to the newest")
        action.add_argument("url", help="a store file path or database URL")
        action.set_defaults(run=_db_upgrade)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except StoreError as exc:
        print(f"labwidget: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
