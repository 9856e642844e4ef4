"""A widget's first message, with its binary buffers found without walking every step.

ipywidgets' ``Widget.open`` sends the whole state in the comm-open message, after walking all
of it for binary values (``_remove_buffers``: a Python call per list, a path list per
element). A labeler's state holds 1,000 steps, their alternatives and one saved list per step:
that walk was ~7 ms of building the widget in the kernel. Here a trait whose value is plain
JSON (scalars, and lists or dicts of them, three levels deep) is told apart in one quick pass and
sent as is; only the rest (the packed token scores) goes through ipywidgets' walk.
"""

from __future__ import annotations

from typing import Any

import comm
from ipywidgets import Widget
from ipywidgets._version import __protocol_version__
from ipywidgets.widgets.widget import _remove_buffers

_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any, depth: int = 3) -> bool:
    """Whether ``value`` is a scalar, or a list or dict of plain values ``depth`` levels down."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth == 0:
        return False
    if kind is list:
        values = value
    elif kind is dict:
        values = value.values()
    else:
        return False
    if all(map(_SCALARS.__contains__, map(type, values))):  # at C speed: a list of scalars
        return True
    return all(_plain(v, depth - 1) for v in values)


def split_buffers(state: dict[str, Any]) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """``_remove_buffers(state)``: the state without its binary values, their paths, the values."""
    plain = {key: value for key, value in state.items() if _plain(value)}
    rest, paths, buffers = _remove_buffers(
        {key: value for key, value in state.items() if key not in plain}
    )
    return {**plain, **rest}, paths, buffers


def open_comm(widget: Widget) -> None:
    """Ipywidgets' ``Widget.open``, with ``split_buffers`` for its walk."""
    if widget.comm is not None:
        return
    state, buffer_paths, buffers = split_buffers(widget.get_state())
    args: dict[str, Any] = {
        "target_name": "jupyter.widget",
        "data": {"state": state, "buffer_paths": buffer_paths},
        "buffers": buffers,
        "metadata": {"version": __protocol_version__},
    }
    if widget._model_id is not None:
        args["comm_id"] = widget._model_id
    widget.comm = comm.create_comm(**args)
