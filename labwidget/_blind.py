"""Do people rubber-stamp suggestions? Blind items tell how often the suggestions are wrong.

``suggest(blind_rate=…)`` keeps a share of items without suggestions. People's labels there
show how often a model's suggestion is wrong when no one has seen it (pooled over everyone's
blind labels: ``wrong_blind``). Where suggestions are shown, an annotator who weighs them
disagrees about as often; one who accepts them disagrees less. Of the suggestions blind
labeling would reject, the share an annotator let through is estimated as
``1 - disagreed / wrong_blind`` (0: no more agreement than blind; 1: every one accepted).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from labwidget.store import Store


def suggestion_bias(store: Store, *, dataset: str | None = None) -> list[dict[str, Any]]:
    """Per annotator and model: how often they agreed with suggestions shown, against blind.

    One dict per (annotator, model) with shown suggestions: ``annotator``, ``model``,
    ``shown_steps`` (their ratings of steps with a suggestion shown), ``agreed`` (the share
    equal to it), ``blind_steps`` and ``wrong_blind`` (everyone's ratings of blind items'
    steps, and the share that differ from the hidden suggestion), ``accepted_wrong`` (the
    estimate above; None without blind labels that reject a suggestion). Empty when no model
    suggested anything.
    """
    predicted: dict[tuple[str, int, int], list[tuple[str, int]]] = {}
    blind: set[tuple[str, str]] = set()
    for item, step, alt, _, source, value, _, _, hidden, _ in store.current_steps(
        "prediction", dataset=dataset, source="model:", blind=True
    ):
        predicted.setdefault((item, step, alt), []).append((source, value))
        if hidden:
            blind.add((item, source))
    if not predicted:
        return []
    shown: Counter[tuple[str, str]] = Counter()
    agreed: Counter[tuple[str, str]] = Counter()
    blind_steps: Counter[str] = Counter()
    blind_wrong: Counter[str] = Counter()
    for item, step, alt, annotator, _, value, *_ in store.current_steps(
        "rating", dataset=dataset, source="human"
    ):
        for model, suggested in predicted.get((item, step, alt), ()):
            if (item, model) in blind:
                blind_steps[model] += 1
                blind_wrong[model] += value != suggested
            else:
                shown[(annotator, model)] += 1
                agreed[(annotator, model)] += value == suggested
    out = []
    for (annotator, model), steps in sorted(shown.items()):
        wrong = blind_wrong[model] / blind_steps[model] if blind_steps[model] else None
        disagreed = 1.0 - agreed[(annotator, model)] / steps
        accepted = None if not wrong else min(1.0, max(0.0, 1.0 - disagreed / wrong))
        out.append(
            {
                "annotator": annotator,
                "model": model,
                "shown_steps": steps,
                "agreed": agreed[(annotator, model)] / steps,
                "blind_steps": blind_steps[model],
                "wrong_blind": wrong,
                "accepted_wrong": accepted,
            }
        )
    return out
