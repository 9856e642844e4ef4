"""How a stepwise row becomes the text a PRM reads: TRL's layout, or Qwen2.5-Math-PRM's chat.

Training (``train_prm``) and scoring (``StepScorer``) take the same layout, so a PRM is scored on
exactly the tokens it was trained on; the label sits on the last token after each step either way
(``encode_steps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labwidget.formats.qwen import STEP_TOKEN, SYSTEM, qwen_prompt

LAYOUTS = ("trl", "qwen")


@dataclass(frozen=True)
class Layout:
    """A layout: the separator after each step, and the chat around the question (or none).

    Attributes:
        step_separator: appended after every step; the label sits on its last token.
        chat: put the question in a chat (``qwen_prompt``) instead of using it as it is.
        system: the chat's system turn; None leaves it out.
    """

    step_separator: str = "\n"
    chat: bool = False
    system: str | None = None

    def rows(self, rows: Sequence[dict[str, Any]], tokenizer: Any) -> list[dict[str, Any]]:
        """``rows`` with each prompt as this layout writes it."""
        if not self.chat:
            return list(rows)
        return [
            {**row, "prompt": qwen_prompt(tokenizer, row["prompt"], self.system)} for row in rows
        ]


def layout(name: str, *, step_separator: str | None = None, system: str | None = SYSTEM) -> Layout:
    r"""The layout called ``name``.

    ``"trl"``: BOS (if the tokenizer has one), the question, then each step followed by
    ``step_separator`` (``"\n"`` by default), as TRL 1.13's ``PRMTrainer`` tokenizes. ``"qwen"``:
    the Qwen2.5-Math-PRM model card's chat, the question as the user turn after ``system``, each
    step followed by ``<extra_0>``.

    >>> layout("qwen", system=None)
    Layout(step_separator='<extra_0>', chat=True, system=None)
    """
    if name == "trl":
        return Layout(step_separator="\n" if step_separator is None else step_separator)
    if name == "qwen":
        if step_separator not in (None, STEP_TOKEN):
            raise ValueError(f"the qwen layout puts {STEP_TOKEN} after each step, not a separator")
        return Layout(step_separator=STEP_TOKEN, chat=True, system=system)
    raise ValueError(f"layout is one of {', '.join(LAYOUTS)}, not {name!r}")
