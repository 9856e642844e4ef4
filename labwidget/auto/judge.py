"""Judges: a verifier (typically an LLM) that rates every step of a solution, with a rationale.

A judge is ``fn(prompt, steps) -> verdicts``: one ``{"value": -1|0|1, "rationale": str}`` (an
optional ``"confidence"`` in [0, 1]) or None per step. Its verdicts are stored as ratings with
source ``auto:judge`` and the rationale in the meta; the consensus router weighs them against
the rollouts. ``llm_judge`` makes one from any rollout generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from labwidget.auto._calls import AutolabelError, where
from labwidget.auto._settings import Event, Settings
from labwidget.auto.prefix import Generator


class Verdict(TypedDict, total=False):
    """A judge's verdict on one step: ``value`` -1/0/+1 and why (``rationale``)."""

    value: int
    rationale: str
    confidence: float


Judge = Callable[[str, list[str]], Sequence[Verdict | None]]

JUDGE_TEMPLATE = """\
Check this solution step by step. For each step write one line:
"Step <number>: correct|incorrect|neutral - <one sentence why>".

Problem: {question}

{numbered_steps}
"""
_VALUES = {"correct": 1, "neutral": 0, "incorrect": -1, "wrong": -1}
_LINE = re.compile(
    r"^\W*step\s*(\d+)\W*\s*(correct|incorrect|neutral|wrong)\b\W*(.*)$", re.IGNORECASE
)


def judge_events(settings: Settings, item: str, steps: int, verdicts: Any) -> list[Event]:
    """The judge's verdicts as ``auto:judge`` ratings; refused unless one per step, well formed."""
    if isinstance(verdicts, (str, bytes, dict)) or not isinstance(verdicts, Sequence):
        raise AutolabelError(
            f"{where(item, None)}: the judge returned {type(verdicts).__name__}, not one verdict "
            f"(or None) per step"
        )
    if len(verdicts) != steps:
        raise AutolabelError(
            f"{where(item, None)}: the judge returned {len(verdicts)} verdicts for {steps} steps"
        )
    events: list[Event] = []
    for step, verdict in enumerate(verdicts):
        if verdict is None:
            continue
        value = verdict.get("value") if isinstance(verdict, dict) else None
        if isinstance(value, bool) or value not in (-1, 0, 1):
            raise AutolabelError(
                f"{where(item, step)}: a judge's verdict is {{'value': -1|0|1, 'rationale': "
                f"…}}, not {verdict!r}"
            )
        confidence = verdict.get("confidence")
        if confidence is not None and not (
            isinstance(confidence, (int, float)) and 0.0 <= confidence <= 1.0
        ):
            raise AutolabelError(
                f"{where(item, step)}: the judge's confidence must be in [0, 1], not {confidence!r}"
            )
        events.append(
            settings.event(
                item,
                step,
                "judge",
                value=value,
                confidence=confidence,
                source="auto:judge",
                meta={"rationale": str(verdict.get("rationale") or "")},
            )
        )
    return events


def llm_judge(generator: Generator, *, template: str = JUDGE_TEMPLATE) -> Judge:
    r"""A judge that asks a language model, through a rollout generator, to rate each step.

    The model gets ``template`` (with ``{question}`` and ``{numbered_steps}``) and answers one
    line per step, ``Step 2: incorrect - 3 × 4 is 12, not 14``; a step it says nothing
    about gets no verdict.

    >>> fake = lambda prompts, n: [["Step 1: correct - fine\nStep 2: wrong - 2+2 is 4"]]
    >>> llm_judge(fake)("2+2?", ["2+2 is", "5"])
    [{'value': 1, 'rationale': 'fine'}, {'value': -1, 'rationale': '2+2 is 4'}]
    """

    def judge(question: str, steps: list[str]) -> list[Verdict | None]:
        numbered = "\n".join(f"Step {i}: {step}" for i, step in enumerate(steps, 1))
        prompt = template.format(question=question, numbered_steps=numbered)
        (answer,) = generator([prompt], 1)[0]
        verdicts: list[Verdict | None] = [None] * len(steps)
        for line in answer.splitlines():
            found = _LINE.match(line.strip())
            if found and 1 <= int(found[1]) <= len(steps):
                verdicts[int(found[1]) - 1] = {
                    "value": _VALUES[found[2].lower()],
                    "rationale": found[3].strip(),
                }
        return verdicts

    return judge
