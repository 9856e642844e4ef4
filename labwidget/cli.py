"""The ``labwidget`` command: look at a store, import and export labels, manage its schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from labwidget.auto import AutolabelError
from labwidget.auto.command import add_command as add_autolabel
from labwidget.formats import FormatError, export, import_prm800k
from labwidget.store import LabelError, Store, StoreError, init_database

IMPORT_FORMATS = ("prm800k",)
EXPORT_FORMATS = ("prm800k", "trl-stepwise", "trl-preference", "trl-unpaired")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"labwidget: {message} (see labwidget --help)\n")


def _open(target: str, *, create: bool = False) -> Store:
    """The store at ``target``; a store file that is not there is refused unless ``create``."""
    if not create and "://" not in target and not Path(target).exists():
        raise StoreError(f"there is no store at {target}; check the path")
    return Store(target)


def _db_init(args: argparse.Namespace) -> None:
    print(f"schema at {init_database(args.url)}")
    if "://" in args.url:
        print(
            "annotators: GRANT labwidget_annotator TO <role>; each writes only its own labels, "
            "and adds items, steps and alternatives only through the store"
        )


def _db_upgrade(args: argparse.Namespace) -> None:
    print(f"schema at {init_database(args.url, secure=False)}")
    if "://" in args.url:
        print(
            "annotator rules: brought up to date where labwidget db init had set them up; "
            "to set them up, run: labwidget db init URL"
        )


def _stats(args: argparse.Namespace) -> None:
    with _open(args.store) as store:
        counts = store.stats()
    for name, count in counts.items():
        print(f"{name}: {count}")


def _import(args: argparse.Namespace) -> None:
    if args.format not in IMPORT_FORMATS:
        raise ValueError(f"cannot import {args.format!r}; one of {', '.join(IMPORT_FORMATS)}")
    Path(args.file).stat()  # a missing file fails here, before a new store file is made
    with _open(args.store, create=True) as store:
        counts = import_prm800k(store, args.file, dataset=args.dataset, progress=args.progress)
    print(
        f"read {counts['lines']} lines: {counts['items']} new items, {counts['events']} new labels"
    )


def _export(args: argparse.Namespace) -> None:
    if args.format not in EXPORT_FORMATS:
        raise ValueError(f"cannot export {args.format!r}; one of {', '.join(EXPORT_FORMATS)}")
    names = ("dataset", "annotator", "neutral", "ties", "score_threshold")
    options: dict[str, Any] = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    with _open(args.store) as store:
        count = export(store, args.out, format=args.format, progress=args.progress, **options)
    print(f"wrote {count} rows to {args.out}")


def _agreement(args: argparse.Namespace) -> None:
    from labwidget.agreement import agreement

    with _open(args.store) as store:
        print(agreement(store, dataset=args.dataset, sources=args.sources, suggestions=True))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="labwidget", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)
    stats = commands.add_parser("stats", help="count what a store holds")
    stats.add_argument("store", help="a store file path or database URL")
    stats.set_defaults(run=_stats)

    quiet = _Parser(add_help=False)
    quiet.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const=False,
        default=None,
        help="no progress bar (by default one shows when stderr is a terminal)",
    )
    load = commands.add_parser("import", parents=[quiet], help="import labels from a file")
    load.add_argument("store", help="a store file path (created if missing) or database URL")
    load.add_argument("file", help="the file to read")
    load.add_argument("--format", required=True, help=", ".join(IMPORT_FORMATS))
    load.add_argument("--dataset", default="prm800k", help="the dataset the items go to")
    load.set_defaults(run=_import)

    save = commands.add_parser("export", parents=[quiet], help="export labels to a file")
    save.add_argument("store", help="a store file path or database URL")
    save.add_argument("out", help="the file to write: NAME.jsonl or NAME.parquet")
    save.add_argument("--format", required=True, help=", ".join(EXPORT_FORMATS))
    save.add_argument("--dataset", help="only this dataset")
    save.add_argument("--annotator", help="only this annotator's labels")
    save.add_argument("--neutral", help="trl-stepwise: a 0 rating becomes false, true or drop")
    save.add_argument("--ties", help="trl-preference: drop ties, or error on one")
    save.add_argument(
        "--score-threshold", type=float, help="trl-unpaired: item scores >= this are True"
    )
    save.set_defaults(run=_export)

    add_autolabel(commands, [quiet])

    agree = commands.add_parser(
        "agreement",
        help="agreement between labelers (alpha, kappa) and earliest-error F1 per labeler",
    )
    agree.add_argument("store", help="a store file path or database URL")
    agree.add_argument("--dataset", help="only this dataset")
    agree.add_argument(
        "--sources",
        nargs="+",
        help="the label sources compared in alpha and kappa (default: human; 'auto:' adds "
        "every machine method)",
    )
    agree.set_defaults(run=_agreement)

    db = commands.add_parser("db", help="manage a store's schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION", parser_class=_Parser)
    actions = {
        "init": (_db_init, "create or upgrade the schema; on PostgreSQL also the annotator role "
                 "and its rules: annotators write only their own labels, and add items, steps "
                 "and alternatives only through the store (re-run it after an upgrade of "
                 "labwidget to bring the rules up to date)"),
        "upgrade": (_db_upgrade, "upgrade the schema to the newest; on PostgreSQL, annotator "
                    "rules that db init set up are brought up to date too"),
    }  # fmt: skip
    for name, (run, help_text) in actions.items():
        action = db_commands.add_parser(name, help=help_text)
        action.add_argument("url", help="a store file path or database URL")
        action.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (non-zero with a one-line reason on failure)."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}")
    except (StoreError, LabelError, FormatError, AutolabelError, ValueError, ImportError) as exc:
        return _fail(str(exc))
    return 0


def _fail(reason: str) -> int:
    """Print ``reason`` as one line on stderr (database errors can span several); returns 1."""
    print(f"labwidget: {' '.join(reason.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
