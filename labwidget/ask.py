"""ask(): stop a running loop for a human judgement, without ever blocking the kernel.

A cell that blocks the kernel's main thread cannot receive the widget's messages on every
ipykernel: 7.4 routes a comm's messages back to the thread that created it (see
shared/recipes/browser-e2e.md §6), and jupyter-ui-poll silently does nothing from 7.1 on. So
the loop runs in a worker thread (``background``), the kernel stays free to deliver the labels,
and ``ask`` blocks only that worker until the item is labeled, finished or the time is up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
from IPython.display import display

from labwidget.capture import label
from labwidget.render import Tokenizer
from labwidget.store import Store
from labwidget.widgets.steps import StepLabeler

_worker = threading.local()


class Background:
    """A loop running in a worker thread, with the cell area where its questions appear."""

    def __init__(self, area: ipywidgets.VBox) -> None:
        self.area = area
        self.result: Any = None
        self.error: BaseException | None = None
        self._finished = threading.Event()

    @property
    def done(self) -> bool:
        """True once the loop has returned or raised."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the loop ends, then return its result (or re-raise its exception).

        Not from the kernel's main thread while the loop still asks questions.
        """
        if not self._finished.wait(timeout):
            raise TimeoutError("the background loop is still running")
        if self.error is not None:
            raise self.error
        return self.result

    def _run(self, fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        _worker.background = self
        try:
            self.result = fn(*args, **kwargs)
        except BaseException as exc:  # the notebook sees it through .error / .wait()
            self.error = exc
        finally:
            self._finished.set()


def background(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Background:
    """Run ``fn(*args, **kwargs)`` in a worker thread; its ``ask`` calls show up in this cell.

    The cell returns at once and the kernel stays responsive, so labels reach Python while
    the loop waits for them.
    """
    area = ipywidgets.VBox()
    display(area)  # type: ignore[no-untyped-call]
    job = Background(area)
    threading.Thread(
        target=job._run, args=(fn, args, kwargs), name="labwidget-background", daemon=True
    ).start()
    return job


def _answered(widget: StepLabeler) -> bool:
    saved = widget.saved
    return saved.get("finish") is not None or all(r is not None for r in widget.step_labels)


def ask(
    output: Any,
    *,
    store: Store,
    tokenizer: Tokenizer | None = None,
    prompt: str = "",
    timeout: float | None = None,
    **label_kwargs: Any,
) -> dict[str, Any]:
    """Show a model output and wait until a human has rated every step or finished it.

    Takes every output ``label`` takes (text, steps, token ids, a ``generate`` output,
    logits). Call it from a loop started with ``background``. Returns ``{"item", "ratings",
    "finish", "timed_out"}``; an item labeled before (same prompt and steps) answers at once.

    Raises:
        RuntimeError: called outside ``background``, where waiting would block the kernel.
    """
    job: Background | None = getattr(_worker, "background", None)
    if job is None:
        raise RuntimeError(
            "ask() waits for a label, which would block the kernel that has to receive it; "
            "run the loop with labwidget.background(loop) instead"
        )
    widget = label(output, tokenizer=tokenizer, prompt=prompt, store=store, **label_kwargs)
    answered = threading.Event()

    def check(_change: Any = None) -> None:
        if _answered(widget):
            answered.set()

    widget.observe(check, names=["saved", "step_labels"])
    check()
    job.area.children = (*job.area.children, widget)
    timed_out = not answered.wait(timeout)
    widget.unobserve(check, names=["saved", "step_labels"])
    return {
        "item": widget.item_id,
        "ratings": list(widget.step_labels),
        "finish": widget.saved.get("finish"),
        "timed_out": timed_out,
    }
