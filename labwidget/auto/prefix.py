"""What a rollout generator is asked to continue: a question and the first steps of a solution."""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: A rollout generator: for each prompt, ``n`` completions (the rest of a solution, ending in a
#: final answer). Many prompts come in one call, so a batched ``generate`` or a server is used
#: well. ``lw.generators.hf`` and ``lw.generators.openai_compatible`` make one.
Generator = Callable[[list[str], int], list[list[str]]]


class Prefix(str):
    r"""A rollout prompt: the plain text to continue, which also knows its parts.

    The text is the question, a newline, then each step followed by a newline, so a plain
    language model continues it with the next step. Adapters that speak chat send ``question``
    as the user's message and ``solution`` as the start of the assistant's answer; ``seed`` is
    fixed per (item, step, run seed), so a seeded generator gives the same rollouts whatever
    else shares its batch.

    >>> p = Prefix("1+1+1?", ["1+1=2"], seed=7)
    >>> str(p), p.solution, p.seed
    ('1+1+1?\n1+1=2\n', '1+1=2\n', 7)
    """

    question: str
    steps: tuple[str, ...]
    seed: int

    def __new__(cls, question: str, steps: Sequence[str], *, seed: int = 0) -> Prefix:
        """The prefix of ``question``'s solution made of ``steps``."""
        solution = "".join(f"{step}\n" for step in steps)
        prefix = super().__new__(cls, f"{question}\n{solution}")
        prefix.question = question
        prefix.steps = tuple(steps)
        prefix.seed = seed
        return prefix

    @property
    def solution(self) -> str:
        """The steps so far, each followed by a newline: the start of the answer to continue."""
        return "".join(f"{step}\n" for step in self.steps)

    def __getnewargs_ex__(self) -> tuple[tuple[str, tuple[str, ...]], dict[str, int]]:
        # Ray pickles prompts; str's own rule would call Prefix(text) and lose the parts.
        return (self.question, self.steps), {"seed": self.seed}
