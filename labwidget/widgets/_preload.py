"""The step labeler's front end, loaded into the page as soon as labwidget is imported in a kernel.

A cell that imports labwidget usually comes before the cell that shows a labeler. Importing it
in a kernel opens one hidden model (never displayed) whose module is the loader (js/loader.ts):
its ``initialize`` fetches the steps bundle and its stylesheet, adds the stylesheet and warms
the Markdown and KaTeX renderer while the page is otherwise idle, so the first labeler renders
from a warm page instead of paying for all of that between the execute request and its first
paint. Where the server extension cannot serve the bundle, this model answers the loader's
request for it, as every labwidget widget does. The kernel reads labwidget's version here too,
which every labeler's signed context names.
"""

from __future__ import annotations

import os
from typing import Any

import anywidget
import traitlets

from labwidget._bundle import STATIC
from labwidget._signing import labwidget_version
from labwidget.widgets._base import bundle_reply, bundle_trait

BUNDLE = "steps"


class Preload(anywidget.AnyWidget):
    """A model with no view that loads bundle ``steps`` into the page (js/loader.ts)."""

    _esm = STATIC / "loader.js"
    _bundle = traitlets.Dict(help="The front end to load: {name, js, css, warm}.").tag(sync=True)

    def __init__(self) -> None:
        super().__init__(_bundle={**bundle_trait(BUNDLE), "warm": True})
        self.on_msg(self._on_custom_msg)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("kind") == "bundle":
            self.send(bundle_reply(BUNDLE, content.get("id")))


_preloaded: list[Preload] = []


def in_kernel() -> bool:
    """Whether this interpreter is a Jupyter kernel, whose widgets reach a page."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def preload() -> None:
    """Opens the hidden model once per kernel; nothing outside a kernel, or while hot-reloading."""
    if _preloaded or os.environ.get("ANYWIDGET_HMR") == "1" or not in_kernel():
        return
    _preloaded.append(Preload())
    labwidget_version()  # read from the package metadata (~3 ms), once: every labeler signs it
