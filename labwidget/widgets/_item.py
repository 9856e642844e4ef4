"""One stored item as a step labeler shows it: its steps, heatmap, saved labels and context."""

from __future__ import annotations

from typing import Any

from labwidget._signing import kernel_key, signed_context
from labwidget.commits import steps_context
from labwidget.store import Store
from labwidget.widgets._modes import LABEL, Shows, disputes_of
from labwidget.widgets._tokens import stored_token_traits


def saved_state(store: Store, item: str, shape: list[int]) -> dict[str, Any]:
    """What this annotator has committed on ``item``, laid out per step and alternative."""
    ratings: list[list[int | None]] = [[None] * n for n in shape]
    flags: list[list[bool]] = [[False] * n for n in shape]
    state: dict[str, Any] = {
        "ratings": ratings,
        "flags": flags,
        "choices": [None] * len(shape),
        "replacements": [None] * len(shape),
        "notes": [None] * len(shape),
        "finish": None,
    }
    for label in store.labels(item=item, annotator=store.annotator, kind=None):
        step, alt, kind = label["step"], label["alt"], label["kind"]
        if kind == "finish":
            state["finish"] = label["text"]
        elif step is None or not 0 <= step < len(shape) or not 0 <= alt < shape[step]:
            continue
        elif kind == "rating":
            ratings[step][alt] = label["value"]
        elif kind == "flag":
            flags[step][alt] = True
        elif kind == "choice" and 0 <= label["value"] < shape[step]:
            # A choice written around the store may name an alternative the step lacks.
            state["choices"][step] = label["value"]
        elif kind in ("replacement", "note"):
            state[f"{kind}s"][step] = label["text"]
    return state


def item_traits(
    store: Store,
    item_id: str,
    suggestions: list[Any],
    heatmap: dict[str, Any] | None = None,
    shows: Shows = LABEL,
) -> dict[str, Any]:
    """The traits that show one stored item: steps, heatmap, this annotator's saved labels.

    The heatmap is ``heatmap`` (traits from ``token_traits``), or else the token scores kept
    with the item. ``shows`` adds what its mode shows beside the steps (``_modes``).
    """
    item = store.item(item_id)
    extras = shows.extras(store, item_id, len(item["steps"]))
    saved = shown_state(store, item_id, [len(a) for a in item["alternatives"]], shows)
    suggestions = extras["suggestions"] or suggestions or [None] * len(item["steps"])
    disputes = disputes_of(extras["evidence"]) if shows.mode == "adjudicate" else None
    context = steps_context(item_id, len(item["steps"]), suggestions, disputes)
    return {
        **(heatmap or stored_token_traits(store, item_id)),
        "prompt": item["prompt"],
        "steps": item["steps"],
        "alternatives": item["alternatives"],
        "item_id": item_id,
        "suggestions": suggestions,
        "evidence": extras["evidence"],
        "cursor": _first_disputed(extras["evidence"]),
        "saved": saved,
        "step_labels": [ratings[0] for ratings in saved["ratings"]],
        "_direct": signed_context(store, context, kernel_key()),
    }


def shown_state(store: Store, item: str, shape: list[int], shows: Shows) -> dict[str, Any]:
    """``saved_state``; adjudicating, each step's rating is its settled label instead."""
    state = saved_state(store, item, shape)
    if shows.mode == "adjudicate":
        for step, value in enumerate(shows.adjudications(store, item, len(shape))):
            state["ratings"][step][0] = value
    return state


def _first_disputed(evidence: list[Any]) -> int:
    """The first step a review or adjudication is about (0 where none is)."""
    for step, shown in enumerate(evidence):
        if shown is not None and (shown.get("review") or shown.get("labels")):
            return step
    return 0
