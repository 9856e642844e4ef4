"""``labwidget autolabel``: machine step labels from the command line (see ``autolabel``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from labwidget.auto._calls import AutolabelError
from labwidget.auto.checkers import math_answer
from labwidget.auto.run import autolabel
from labwidget.store import Store


def add_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``autolabel`` subcommand to ``labwidget``'s subcommands."""
    command = commands.add_parser(
        "autolabel",
        parents=parents,
        help="label steps by machine: rollouts, a judge and their consensus",
        description="Label every step of a store's items by machine (Monte Carlo rollouts or "
        "a binary search for the first error, a judge, and their consensus); re-running "
        "resumes. PKG.MODULE:NAME is imported from the current directory or the path.",
    )
    command.add_argument("store", help="a store file path or database URL")
    command.add_argument(
        "--generator",
        required=True,
        metavar="PKG.MODULE:FACTORY",
        help="a function returning the rollout generator, fn(prompts, n) -> completions",
    )
    command.add_argument(
        "--checker",
        metavar="PKG.MODULE:FUNCTION",
        help="fn(item, completion) -> bool (default: math-verify against the ground truth)",
    )
    command.add_argument(
        "--judge",
        metavar="PKG.MODULE:FACTORY",
        help="a function returning the judge, fn(prompt, steps) -> verdicts",
    )
    command.add_argument("--method", default="mc", choices=("mc", "bisect"))
    command.add_argument("-n", type=int, default=8, help="rollouts per prefix (default 8)")
    command.add_argument("--estimate", default="hard", choices=("hard", "soft"))
    command.add_argument("--seed", type=int, default=0, help="part of every event id")
    command.add_argument("--dataset", help="only this dataset's items")
    command.add_argument(
        "--claim",
        action="store_true",
        help="take items through claims, so several processes can share a PostgreSQL store",
    )
    command.add_argument("--chunk", type=int, default=16, help="items labeled together")
    command.add_argument("--batch", type=int, default=64, help="most prefixes per call")
    command.add_argument(
        "--timeout", type=float, default=600.0, help="longest generator call, in seconds"
    )
    command.add_argument("--ray", action="store_true", help="fan the items out as Ray tasks")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Run ``autolabel`` as the arguments say, printing its summary line."""
    generator = _built(args.generator, "--generator")
    judge = _built(args.judge, "--judge") if args.judge else None
    checker = _imported(args.checker, "--checker") if args.checker else math_answer
    if "://" not in args.store and not os.path.exists(args.store):
        raise ValueError(f"there is no store at {args.store}; check the path")
    with Store(args.store) as store:
        try:
            summary = autolabel(
                store,
                generator=generator,
                checker=checker,
                judge=judge,
                method=args.method,
                n=args.n,
                estimate=args.estimate,
                seed=args.seed,
                dataset=args.dataset,
                claim=args.claim,
                chunk=args.chunk,
                batch=args.batch,
                timeout_s=args.timeout,
                ray=args.ray,
                progress=args.progress,
            )
        except AutolabelError as exc:
            if exc.summary is not None:
                print(exc.summary)
            raise
    print(summary)


def _imported(spec: str, option: str) -> Any:
    """The object ``PKG.MODULE:NAME`` names, importable from the current directory too."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise ValueError(f"{option} takes PKG.MODULE:NAME, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name} ({option}): {exc}") from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise ValueError(f"{module_name} has no {name!r} ({option})") from None


def _built(spec: str, option: str) -> Any:
    """What the factory ``PKG.MODULE:NAME`` returns when called with no arguments."""
    factory = _imported(spec, option)
    try:
        return factory()
    except Exception as exc:
        raise ValueError(f"{spec} ({option}) failed: {type(exc).__name__}: {exc}") from exc
