"""StepLabeler: a prompt and its numbered steps, each rated wrong / neutral / correct by key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import traitlets

from labwidget.store import Store, clean_text
from labwidget.widgets._base import STATIC, Handler, LabWidget


class StepLabeler(LabWidget):
    """Label each step of a model's output −1 / 0 / +1 (PRM800K) from the keyboard.

    Keys, while the widget has focus: ``j``/``k`` or ↓/↑ move; ``1``/``2``/``3`` (or
    ``-``/``0``/``+``) rate the current step wrong / neutral / correct.

    Args:
        prompt: the question or prompt the steps answer.
        steps: the model's output split into steps.
        store: where labels are committed; re-adding the same prompt and steps reuses the item.
        dataset: the dataset the item belongs to in the store.
        meta: any JSON-able facts about the output (model, checkpoint, generation settings).
        source: where the output came from, for the store's records.

    """

    _esm = STATIC / "steps.js"
    _css = STATIC / "steps.css"

    # Inputs, set from Python.
    prompt = traitlets.Unicode("", help="The prompt the steps answer.").tag(sync=True)
    steps = traitlets.List(traitlets.Unicode(), help="The steps to label, in order.").tag(sync=True)
    item_id = traitlets.Unicode("", help="The item's content-hash id in the store.").tag(sync=True)
    # Captured outputs: the saved rating per step (None where unrated) and the current step.
    step_labels = traitlets.List(
        traitlets.Int(allow_none=True), help="The committed rating of each step: -1, 0, 1 or None."
    ).tag(sync=True)
    cursor = traitlets.Int(0, help="The step the keyboard acts on.").tag(sync=True)

    def __init__(
        self,
        prompt: str = "",
        steps: Sequence[str] = (),
        *,
        store: Store,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        prompt = clean_text(prompt)
        step_texts = [clean_text(text) for text in steps]
        new_id = store.add_item(prompt, step_texts, dataset=dataset, meta=meta, source=source)
        super().__init__(
            store=store,
            prompt=prompt,
            steps=step_texts,
            item_id=new_id,
            step_labels=store.step_ratings(new_id),
        )

    def _handlers(self) -> dict[str, Handler]:
        return {"label": self._on_label}

    def _on_label(self, event: dict[str, Any]) -> None:
        if event.get("item") != self.item_id:
            raise ValueError(f"the event is for item {event.get('item')!r}, not {self.item_id!r}")
        step = event["step"]
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(self.steps):
            raise ValueError(f"there is no step {step!r}")
        if event["value"] is None:
            raise ValueError("a step rating must be -1, 0 or +1, not None")
        client_time = event.get("t_client")
        self.store.record_label(
            event_id=str(event["id"]),
            item=self.item_id,
            step=step,
            alt=0,
            value=event["value"],
            client_time=float(client_time) if isinstance(client_time, (int, float)) else None,
        )
        self.step_labels = self.store.step_ratings(self.item_id)
