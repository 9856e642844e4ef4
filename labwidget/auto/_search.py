"""What a rollout method (``mc``, ``bisect``) keeps of one item while it labels the item's steps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from labwidget.auto._settings import Event, Settings


class Search(ABC):
    """The state of one item under a rollout method: which prefixes to roll out from next.

    A run asks each item's search for its ``pending`` steps, rolls out from the prefix ending at
    each, and hands the successes back to ``record``, until every search is ``finished``.

    Args:
        item: the item as the store gives it.
        events: the events already stored for it, by event id (a re-run repeats none).
        settings: the run's settings.
        solved: whether the solution's own final answer is right (asked only if needed).

    Attributes:
        start: the labels known before any rollout, to store first.
    """

    def __init__(
        self,
        item: dict[str, Any],
        events: dict[str, Event],
        settings: Settings,
        solved: Callable[[], bool],
    ) -> None:
        self.item: str = item["id"]
        self.settings = settings
        self.size = len(item["steps"])
        self.start = self.begin(events, solved)

    @abstractmethod
    def begin(self, events: dict[str, Event], solved: Callable[[], bool]) -> list[Event]:
        """Take up where earlier runs left off; returns the labels known without rollouts."""

    @property
    @abstractmethod
    def finished(self) -> bool:
        """True once the search needs no more rollouts."""

    @abstractmethod
    def pending(self) -> list[int]:
        """The steps whose prefixes to roll out from now."""

    @abstractmethod
    def record(self, step: int, successes: int) -> list[Event]:
        """Take ``successes`` out of ``settings.n`` rollouts from ``step``; the labels they give."""
