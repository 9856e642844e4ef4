"""The comm traffic of a widget without a browser: what the page sends, what Python answers."""

from __future__ import annotations

from typing import Any

from anywidget import AnyWidget


def browser_message(method: str, **data: Any) -> dict[str, Any]:
    """A comm message as ipywidgets' front end sends it to the kernel."""
    return {"content": {"data": {"method": method, **data}}, "buffers": []}


def deliver(widget: AnyWidget, content: dict[str, Any]) -> None:
    """Hand ``widget`` one custom message exactly as the page's ``model.send`` would."""
    widget._handle_msg(browser_message("custom", content=content))


def replies(widget: AnyWidget) -> list[dict[str, Any]]:
    """The custom messages Python sent back to the page, in order."""
    return [
        m["data"]["content"]
        for m in widget.comm.published
        if m["data"] and m["data"].get("method") == "custom"
    ]


def state_updates(widget: AnyWidget) -> list[dict[str, Any]]:
    """The trait updates Python sent to the page, in order."""
    return [
        m["data"]["state"]
        for m in widget.comm.published
        if m["data"] and m["data"].get("method") == "update"
    ]


def methods(widget: AnyWidget) -> list[str]:
    """What kind of message each one Python sent to the page was ("update", "custom"...)."""
    return [m["data"]["method"] for m in widget.comm.published if "method" in (m["data"] or {})]
