"""The step labeler's list traits take and refuse exactly what traitlets' own declarations do."""

from __future__ import annotations

from typing import Any

import pytest
import traitlets

from labwidget.widgets._traits import OptionalInts, StringLists, Strings


class Plain(traitlets.HasTraits):
    strings = traitlets.List(traitlets.Unicode())
    string_lists = traitlets.List(traitlets.List(traitlets.Unicode()))
    optional_ints = traitlets.List(traitlets.Int(allow_none=True))


class Quick(traitlets.HasTraits):
    strings = Strings()
    string_lists = StringLists()
    optional_ints = OptionalInts()


class Text(str):
    pass


VALUES: list[tuple[str, Any]] = [
    ("strings", ["a", "b"]),
    ("strings", ("a", "b")),
    ("strings", [Text("a")]),
    ("strings", [b"bytes"]),
    ("strings", ["a", 1]),
    ("strings", [None]),
    ("strings", "ab"),
    ("string_lists", [["a"], ["b", "c"]]),
    ("string_lists", [("a",), ["b"]]),
    ("string_lists", [["a", 2]]),
    ("string_lists", [["a"], "b"]),
    ("string_lists", [[b"x"]]),
    ("optional_ints", [None, 1, -1, 0]),
    ("optional_ints", [True, None]),
    ("optional_ints", [1.0]),
    ("optional_ints", ["1"]),
]


def outcome(owner: traitlets.HasTraits, name: str, value: Any) -> Any:
    try:
        setattr(owner, name, value)
    except traitlets.TraitError:
        return "refused"
    result = getattr(owner, name)
    return result, [type(element) for element in result]


@pytest.mark.parametrize(("name", "value"), VALUES)
def test_the_same_values_are_taken_and_refused(name: str, value: Any) -> None:
    assert outcome(Quick(), name, value) == outcome(Plain(), name, value)


def test_a_value_set_is_a_copy_as_with_traitlets() -> None:
    steps = ["a", "b"]
    alternatives = [["a"], ["b"]]
    quick = Quick(strings=steps, string_lists=alternatives)
    assert quick.strings is not steps
    assert quick.string_lists[0] is not alternatives[0]
