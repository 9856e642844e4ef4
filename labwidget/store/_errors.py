"""Errors the store raises; each says what to do about it."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be opened or written as asked."""


class LabelError(ValueError):
    """A label was rejected (bad value, unknown item or step); nothing was stored."""
