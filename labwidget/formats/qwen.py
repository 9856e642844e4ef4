r"""The Qwen2.5-Math-PRM layout: a chat whose assistant turn has ``<extra_0>`` after each step.

From the Qwen2.5-Math-PRM-7B model card: the steps (Qwen2.5-Math-Instruct's answer split at
its blank lines, ``"\n\n"``) are joined by ``<extra_0>`` with one more at the end, and sent as
the assistant turn after a system turn and the question; the PRM's 2-way head reads the
``<extra_0>`` positions, class 1 being "correct". Rows here are
``{messages: [system, user, assistant], labels: [bool, …]}``: the messages go straight into
``tokenizer.apply_chat_template``, one label per ``<extra_0>``. See
``docs/reward-data-formats.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labwidget.formats._errors import FormatError
from labwidget.formats._tagged import Source, field, import_paths, labeled_paths, refuse_tag
from labwidget.store import Store

STEP_TOKEN = "<extra_0>"  # noqa: S105 (a token of the tokenizer, not a password)
# The system prompt of the model card's example, and of Qwen2.5-Math-Instruct's CoT mode.
SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
FORMAT = "qwen-prm"


def export_qwen(
    store: Store,
    *,
    neutral: str = "true",
    system: str | None = SYSTEM,
    dataset: str | None = None,
    annotator: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Qwen PRM rows ``{messages, labels}``, one per labelled path.

    >>> import tempfile
    >>> store = Store(f"{tempfile.mkdtemp()}/labels.db")
    >>> item = store.add_item("What is 2 + 3?", ["2 + 3 = 5.", "The answer is 6."])
    >>> for step, value in enumerate([1, -1]):
    ...     _ = store.record_label(item=item, step=step, value=value)
    >>> row = next(export_qwen(store, system=None))
    >>> row["messages"][0]
    {'role': 'user', 'content': 'What is 2 + 3?'}
    >>> row["messages"][1]["content"], row["labels"]
    ('2 + 3 = 5.<extra_0>The answer is 6.<extra_0>', [True, False])

    Args:
        store: the store to read.
        neutral: what a 0 rating becomes: ``"true"`` (the default, as Qwen treats PRM800K's
            0 as positive), ``"false"`` or ``"drop"`` (leave the row out).
        system: the system turn; None leaves it out.
        dataset: only items of this dataset.
        annotator: only this annotator's labels.
        source: only labels from this source (``human``, ``model:<name>``, ``auto:<method>``).

    Raises:
        FormatError: a prompt or step contains ``<extra_0>``.
    """
    for path in labeled_paths(
        store, neutral=neutral, dataset=dataset, annotator=annotator, source=source
    ):
        prompt = path.item["prompt"]
        refuse_tag(path, [prompt, *path.steps], STEP_TOKEN, FORMAT)
        head = [] if system is None else [{"role": "system", "content": system}]
        answer = STEP_TOKEN.join(path.steps) + STEP_TOKEN
        messages = [
            *head,
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": answer},
        ]
        yield {"messages": messages, "labels": path.labels}


def import_qwen(
    store: Store,
    source: Source,
    *,
    dataset: str = FORMAT,
    annotator: str = FORMAT,
    label_source: str = f"auto:{FORMAT}",
    progress: bool | None = False,
) -> dict[str, int]:
    """Import Qwen PRM JSONL rows into ``store``: every line, or none if any line is bad.

    The user turn becomes the item's prompt and the assistant turn, split at ``<extra_0>``, its
    steps; a True label is rated +1, a False one -1. The system turn is not kept (``qwen``
    writes its own ``system``).

    Args:
        store: where the items and labels go.
        source: a file path, or the lines themselves.
        dataset: the dataset the items go to.
        annotator: whose labels these are.
        label_source: the labels' source; say ``"human"`` for a file of human labels.
        progress: show a progress bar on stderr (None: only when stderr is a terminal).

    Returns:
        ``{"lines": lines read, "items": items new to the store, "events": new labels}``.

    Raises:
        FormatError: a line is not JSON, its roles are not [system,] user, assistant, or its
            labels are not one true/false per ``<extra_0>``; the message names the line.
    """

    def parse(line: Any, where: str) -> tuple[str, list[str], list[int], str]:
        return (*parse_qwen(line, where), dataset)

    return import_paths(store, source, parse, FORMAT, annotator, label_source, progress)


def parse_qwen(line: Any, where: str) -> tuple[str, list[str], list[int]]:
    """The question, the steps and their ratings (+1 / -1) of one Qwen PRM row.

    >>> parse_qwen({"messages": [{"role": "user", "content": "Why?"},
    ...                          {"role": "assistant", "content": "a<extra_0>b<extra_0>"}],
    ...             "labels": [True, False]}, "x:1")
    ('Why?', ['a', 'b'], [1, -1])
    """
    messages = field(line, where, "messages", list)
    labels = field(line, where, "labels", list)
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles not in (["user", "assistant"], ["system", "user", "assistant"]):
        raise FormatError(
            f"{where}: messages: expected the roles [system,] user, assistant, got {roles}"
        )
    prompt, answer = (messages[-2].get("content"), messages[-1].get("content"))
    for name, value in (("user", prompt), ("assistant", answer)):
        if not isinstance(value, str):
            raise FormatError(f"{where}: messages: the {name} content is not a string")
    if not answer.endswith(STEP_TOKEN):
        raise FormatError(f"{where}: messages: the assistant turn does not end with {STEP_TOKEN}")
    steps = answer.split(STEP_TOKEN)[:-1]
    if len(labels) != len(steps) or not all(isinstance(label, bool) for label in labels):
        raise FormatError(
            f"{where}: labels: expected {len(steps)} true/false labels, one per {STEP_TOKEN}"
        )
    return prompt, steps, [1 if label else -1 for label in labels]


def qwen_prompt(tokenizer: Any, question: str, system: str | None = SYSTEM) -> str:
    """The chat text before the first step: system and user turns, then the assistant's header.

    What ``tokenizer.apply_chat_template`` renders for the system and user turns with the
    generation prompt: on a chat template such as Qwen's, the model card's full conversation
    up to its assistant content, so that training and scoring see the same tokens.
    """
    head = [] if system is None else [{"role": "system", "content": system}]
    text: str = tokenizer.apply_chat_template(
        [*head, {"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
    )
    return text
