"""Machine step labels: rollouts (Monte Carlo, binary search), judges, and a consensus router.

``autolabel`` runs them over a store's items; ``review_queue`` and ``review_suggestions`` hand
what the machines disagree on to people. torch, openai, math-verify and Ray load only when used.
"""

from labwidget.auto import generators
from labwidget.auto._calls import AutolabelError
from labwidget.auto.checkers import Checker, ground_truth, math_answer
from labwidget.auto.judge import Judge, Verdict, llm_judge
from labwidget.auto.prefix import Generator, Prefix
from labwidget.auto.router import review_queue, review_suggestions, route
from labwidget.auto.run import Summary, autolabel

__all__ = [
    "AutolabelError",
    "Checker",
    "Generator",
    "Judge",
    "Prefix",
    "Summary",
    "Verdict",
    "autolabel",
    "generators",
    "ground_truth",
    "llm_judge",
    "math_answer",
    "review_queue",
    "review_suggestions",
    "route",
]
