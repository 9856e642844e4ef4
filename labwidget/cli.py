"""The ``labwidget`` command: look at a store, import and export labels, manage its schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from labwidget.auto import AutolabelError
from labwidget.auto.command import add_command as add_autolabel
from labwidget.formats import IMPORTS, FormatError, export
from labwidget.formats._io import ROWS
from labwidget.report import write_report
from labwidget.store import LabelError, Store, StoreError, init_database

IMPORT_FORMATS = tuple(IMPORTS)
EXPORT_FORMATS = tuple(ROWS)
# What ``db init`` and ``db upgrade`` say of a shared (PostgreSQL) store's annotators.
ANNOTATORS_SECURED = (
    "annotators: GRANT labwidget_annotator TO <role>; each writes only its own labels, "
    "and adds items, steps and alternatives only through the store"
)
ANNOTATOR_RULES_UPDATED = (
    "annotator rules: brought up to date where labwidget db init had set them up; "
    "to set them up, run: labwidget db init URL"
)


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
    _set_up(args.url, secure=True)


def _db_upgrade(args: argparse.Namespace) -> None:
    _set_up(args.url, secure=False)


def _set_up(url: str, *, secure: bool) -> None:
    """Bring the schema at ``url`` up to date; on a shared store, say what annotators may do."""
    print(f"schema at {init_database(url, secure=secure)}")
    if "://" in url:
        print(ANNOTATORS_SECURED if secure else ANNOTATOR_RULES_UPDATED)


def _stats(args: argparse.Namespace) -> None:
    with _open(args.store) as store:
        counts = store.stats()
    for name, count in counts.items():
        print(f"{name}: {count}")


def _import(args: argparse.Namespace) -> None:
    if args.format not in IMPORT_FORMATS:
        raise ValueError(f"cannot import {args.format!r}; one of {', '.join(IMPORT_FORMATS)}")
    Path(args.file).stat()  # a missing file fails here, before a new store file is made
    # Each importer has its own default dataset (math-shepherd: each line's task).
    options = {} if args.dataset is None else {"dataset": args.dataset}
    if args.step_tag is not None:
        options["step_tag"] = args.step_tag
    with _open(args.store, create=True) as store:
        counts = IMPORTS[args.format](store, args.file, progress=args.progress, **options)
    print(
        f"read {counts['lines']} lines: {counts['items']} new items, {counts['events']} new labels"
    )


def _export(args: argparse.Namespace) -> None:
    if args.format not in EXPORT_FORMATS:
        raise ValueError(f"cannot export {args.format!r}; one of {', '.join(EXPORT_FORMATS)}")
    names = ("dataset", "annotator", "neutral", "ties", "score_threshold", "step_tag")
    options: dict[str, Any] = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    with _open(args.store) as store:
        count = export(store, args.out, format=args.format, progress=args.progress, **options)
    print(f"wrote {count} rows to {args.out}")


def _agreement(args: argparse.Namespace) -> None:
    from labwidget.agreement import agreement

    with _open(args.store) as store:
        print(agreement(store, dataset=args.dataset, sources=args.sources, suggestions=True))


def _report(args: argparse.Namespace) -> None:
    names = ("since", "until", "dataset", "timezone", "week_start", "weekly_cap_h")
    options: dict[str, Any] = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    with _open(args.store) as store:
        summary = write_report(store, args.out, **options)
    totals = summary["totals"]
    print(f"wrote {args.out}: {totals['labels']} labels, {totals['hours']:.1f} hours of labeling")


def _config(args: argparse.Namespace) -> None:
    with _open(args.store) as store:
        if args.value is not None:
            value = None if args.value.lower() in ("none", "unset") else args.value
            store.set_setting(args.name, value)
        shown = store.settings()
    names = [args.name] if args.name is not None else sorted(shown)
    if not names:
        print("no settings (labwidget config STORE NAME VALUE sets one)")
    for name in names:
        print(f"{name}: {shown.get(name, 'unset')}")


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
    load.add_argument(
        "--dataset",
        help="the dataset the items go to (default: the format's name; "
        "math-shepherd: each line's task)",
    )
    load.add_argument("--step-tag", help="openr: the tag after each step (default: 5 newlines)")
    load.set_defaults(run=_import)

    save = commands.add_parser("export", parents=[quiet], help="export labels to a file")
    save.add_argument("store", help="a store file path or database URL")
    save.add_argument("out", help="the file to write: NAME.jsonl or NAME.parquet")
    save.add_argument("--format", required=True, help=", ".join(EXPORT_FORMATS))
    save.add_argument("--dataset", help="only this dataset")
    save.add_argument("--annotator", help="only this annotator's labels")
    save.add_argument(
        "--neutral",
        help="step formats: a 0 rating becomes false, true or drop (the default "
        "is false for trl-stepwise, true for math-shepherd, qwen-prm and openr)",
    )
    save.add_argument("--step-tag", help="openr: the tag after each step (default: 5 newlines)")
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

    report = commands.add_parser("report", help="write the dashboard as one offline HTML file")
    report.add_argument("store", help="a store file path or database URL")
    report.add_argument("-o", "--out", required=True, help="the HTML file to write")
    report.add_argument("--since", help="labels from this date or time on (e.g. 2026-11-02)")
    report.add_argument("--until", help="labels before this date or time")
    report.add_argument("--dataset", help="only this dataset")
    report.add_argument("--timezone", help="the zone of days and weeks (default: the store's)")
    report.add_argument("--week-start", help="the day weeks start on (default: the store's)")
    report.add_argument("--weekly-cap-h", type=float, help="cap on weekly hours a person")
    report.set_defaults(run=_report)

    config = commands.add_parser(
        "config", help="show or set a store's settings: weekly_cap_h, timezone, week_start"
    )
    config.add_argument("store", help="a store file path or database URL")
    config.add_argument("name", nargs="?", help="the setting to show or set")
    config.add_argument("value", nargs="?", help="its new value ('none' unsets it)")
    config.set_defaults(run=_config)

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
