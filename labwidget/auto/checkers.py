"""Answer checkers: whether a completion reached the item's right answer.

A checker is ``fn(item, completion) -> bool``, where ``item`` is the store's dict for the item
(``store.item(id)``) and ``completion`` a generator's text. The default, ``math_answer``,
leaves extraction and equivalence to Hugging Face's ``math-verify``.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

Checker = Callable[[dict[str, Any], str], bool]

# PRM800K's solutions end in "# Answer\n\n<answer>"; math-verify looks for "the answer is".
_PRM800K_ANSWER = re.compile(r"^#\s*Answer\s*$\s*", re.MULTILINE)
_PARSE_TIMEOUT_S = 5


def ground_truth(item: dict[str, Any]) -> str:
    """The right final answer of an item, from its meta.

    PRM800K's importer keeps it at ``meta["question"]["ground_truth_answer"]``; items added by
    hand may put it at ``meta["ground_truth_answer"]``.

    >>> ground_truth({"id": "i1", "meta": {"question": {"ground_truth_answer": "14"}}})
    '14'
    """
    meta = item.get("meta") or {}
    answer = (meta.get("question") or {}).get("ground_truth_answer")
    if answer is None:
        answer = meta.get("ground_truth_answer")
    if answer is None:
        raise ValueError(
            f"item {item.get('id')!r} has no ground truth: put the answer in its "
            "meta['ground_truth_answer'] (PRM800K's importer keeps meta['question']"
            "['ground_truth_answer']), or pass a checker of your own"
        )
    return str(answer)


def math_answer(item: dict[str, Any], completion: str) -> bool:
    r"""True if the completion's final answer equals the item's ground truth, mathematically.

    The final answer is what math-verify finds after "The answer is", "final answer:" or
    PRM800K's "# Answer", or inside ``\boxed{…}`` (several boxes make a set); a completion with
    none of these reached no answer, whatever numbers it holds. Equality is
    ``math_verify.verify``, so ``\frac{1}{2}``, ``0.5`` and ``1/2`` agree.

    >>> item = {"id": "i1", "meta": {"ground_truth_answer": "\\frac{1}{2}"}}
    >>> math_answer(item, "so x = 0.5. The answer is 0.5"), math_answer(item, "x = 1/2")
    (True, False)
    """
    try:
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    except ImportError as exc:
        raise ImportError(
            "the default checker needs math-verify: pip install 'labwidget[math]'"
        ) from exc

    # math-verify's timeouts use SIGALRM, which only the main thread may set.
    timeout = _PARSE_TIMEOUT_S if threading.current_thread() is threading.main_thread() else None
    gold = _gold(ground_truth(item), timeout)
    anchored = [
        LatexExtractionConfig(try_extract_without_anchor=False, boxed_match_priority=0),
        ExprExtractionConfig(try_extract_without_anchor=False),
    ]
    text = _PRM800K_ANSWER.sub("The answer is ", completion)
    answer = parse(text, extraction_config=anchored, parsing_timeout=timeout)
    return bool(answer) and bool(verify(gold, answer, timeout_seconds=timeout))


@functools.lru_cache(maxsize=4096)
def _gold(answer: str, timeout: int | None) -> Any:
    """The ground truth parsed once per answer: every rollout of an item is checked against it."""
    from math_verify import parse

    return parse(f"\\boxed{{{answer}}}", parsing_timeout=timeout)
