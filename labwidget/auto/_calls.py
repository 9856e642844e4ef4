"""Calling user code (generators, checkers, judges) with a deadline and errors that say where."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class AutolabelError(Exception):
    """A generator, checker or judge failed, or answered in the wrong shape.

    The message names the item and step; what was finished before it stays in the store, and
    the same call again resumes from there.
    """

    #: The run's ``Summary`` up to the failure, when ``autolabel`` raised it.
    summary: object | None = None


def where(item: str, step: int | None) -> str:
    """``item ID step K`` (or the item alone), as every message names the work.

    >>> where("ab12", 3), where("ab12", None)
    ('item ab12 step 3', 'item ab12')
    """
    return f"item {item}" if step is None else f"item {item} step {step}"


def call(fn: Callable[..., T], args: Sequence[Any], *, timeout_s: float | None, what: str) -> T:
    """``fn(*args)``, failing with an AutolabelError naming ``what`` if it raises or hangs.

    With a deadline the call runs in a daemon thread: Python cannot stop a thread, so a hung
    generator is left behind (a server request ends by its own timeout) and the run fails.
    """
    if timeout_s is None:
        try:
            return fn(*args)
        except Exception as exc:
            raise AutolabelError(f"{what}: {type(exc).__name__}: {exc}") from exc
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=run, name="labwidget-autolabel", daemon=True).start()
    if not finished.wait(timeout_s):
        raise AutolabelError(
            f"{what}: no answer within {timeout_s:g} s; raise timeout_s if it is just slow"
        )
    if "error" in outcome:
        error = outcome["error"]
        raise AutolabelError(f"{what}: {type(error).__name__}: {error}") from error
    value: T = outcome["value"]
    return value


def check_completions(out: Any, probes: Sequence[tuple[str, int]], n: int) -> list[list[str]]:
    """The generator's answer, refused unless it is one list of ``n`` strings per prompt."""
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence):
        raise AutolabelError(
            f"{where(*probes[0])} (and {len(probes) - 1} more prefixes in the same call): the "
            f"generator returned {type(out).__name__}, not one list of {n} strings per prompt"
        )
    if len(out) != len(probes):
        first, last = where(*probes[0]), where(*probes[-1])
        raise AutolabelError(
            f"the generator returned {len(out)} lists for {len(probes)} prompts ({first} … "
            f"{last}): it must return one list of {n} completions per prompt, in order"
        )
    checked: list[list[str]] = []
    for (item, step), texts in zip(probes, out, strict=True):
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
            raise AutolabelError(
                f"{where(item, step)}: the generator returned {type(texts).__name__} instead "
                f"of a list of {n} strings"
            )
        if len(texts) != n:
            raise AutolabelError(
                f"{where(item, step)}: the generator returned {len(texts)} completions, not {n}"
            )
        wrong = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if wrong:
            raise AutolabelError(f"{where(item, step)}: a completion is {wrong[0]}, not a string")
        checked.append(list(texts))
    return checked
