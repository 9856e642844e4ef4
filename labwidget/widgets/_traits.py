"""List traits for a thousand steps: each checks its elements in one pass where they are plain.

traitlets' ``List(Unicode())`` checks every element through the element trait (a few method
calls apiece): for 1,000 steps and their alternatives that was the largest part of building a
labeler in the kernel. These accept and refuse exactly what the plain declarations do; they
only go straight through when every element is already of the plain type, and otherwise
check element by element as traitlets does.
"""

from __future__ import annotations

from typing import Any

import traitlets


class Strings(traitlets.List):  # type: ignore[type-arg]
    """``List(Unicode())``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(traitlets.Unicode(), **kwargs)

    def validate_elements(self, obj: Any, value: Any) -> Any:
        if all(type(element) is str for element in value):
            return list(value)
        return super().validate_elements(obj, value)


class StringLists(traitlets.List):  # type: ignore[type-arg]
    """``List(List(Unicode()))``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Strings(), **kwargs)

    def validate_elements(self, obj: Any, value: Any) -> Any:
        if all(type(texts) is list and all(type(text) is str for text in texts) for texts in value):
            return [list(texts) for texts in value]
        return super().validate_elements(obj, value)


class OptionalInts(traitlets.List):  # type: ignore[type-arg]
    """``List(Int(allow_none=True))``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(traitlets.Int(allow_none=True), **kwargs)

    def validate_elements(self, obj: Any, value: Any) -> Any:
        if all(element is None or type(element) is int for element in value):
            return list(value)
        return super().validate_elements(obj, value)
