"""A run's settings, and the event ids and rows derived from them (what makes a re-run resume)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labwidget.store import content_id

METHODS = ("mc", "bisect")
ESTIMATES = ("hard", "soft")
#: MC success rates r with LOW < r <= HIGH are too close to "never" to trust: they go to review.
DEFAULT_BAND = (0.0, 0.25)

Event = dict[str, Any]


@dataclass(frozen=True)
class Settings:
    """What decides a run's labels; the same settings give the same event ids."""

    method: str = "mc"
    n: int = 8
    estimate: str = "hard"
    seed: int = 0
    band: tuple[float, float] = DEFAULT_BAND
    generator: str = "generator"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.estimate not in ESTIMATES:
            raise ValueError(f"estimate must be 'hard' or 'soft', not {self.estimate!r}")
        if self.method == "bisect" and self.estimate != "hard":
            raise ValueError("bisect labels are hard by nature: use estimate='hard' with it")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"n (rollouts per prefix) must be a positive integer, not {self.n!r}")
        low, high = self.band
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(
                f"band must be (low, high) with 0 <= low <= high <= 1, not {self.band}"
            )

    @property
    def source(self) -> str:
        """The label source of this method's labels: ``auto:mc`` or ``auto:bisect``."""
        return f"auto:{self.method}"

    def event_id(self, item: str, step: int, role: str) -> str:
        """The id of the ``role`` event (label, probe, consensus) at a step of this run."""
        return content_id(
            "autolabel", self.method, self.n, self.estimate, self.seed, item, step, role
        )

    def judge_id(self, item: str, step: int) -> str:
        """The judge's verdict at a step: the same whatever method the rollouts use."""
        return content_id("autolabel", "judge", self.seed, item, step)

    def prefix_seed(self, item: str, step: int) -> int:
        """A seed for the rollouts of one prefix, fixed by the run's seed (31 bits)."""
        return int(content_id("rollouts", self.seed, item, step)[:8], 16) >> 1

    def event(
        self,
        item: str,
        step: int,
        role: str,
        *,
        value: int | None = None,
        confidence: float | None = None,
        meta: dict[str, Any],
        source: str | None = None,
        kind: str = "rating",
        text: str | None = None,
    ) -> Event:
        """An event of this run as ``batch.record`` takes it (and as the store hands it back).

        Each machine method is its own annotator, named like its source (``auto:mc``,
        ``auto:judge`` …), so its current labels never overwrite another's or a person's.
        """
        source = source or self.source
        event_id = self.judge_id(item, step) if role == "judge" else self.event_id(item, step, role)
        return {
            "event_id": event_id,
            "kind": kind,
            "item": item,
            "step": step,
            "value": value,
            "text": text,
            "confidence": confidence,
            "source": source,
            "annotator": source,
            "meta": meta,
        }

    def rollout_label(self, item: str, step: int, successes: int, n: int, **meta: Any) -> Event:
        """The label a prefix's rollouts give its last step (Math-Shepherd's estimate).

        Hard: +1 if any rollout reached the answer, else −1. Soft: +1 if at least half did.
        The confidence is the share of rollouts behind the value: the success rate for +1,
        one minus it for −1.
        """
        rate = successes / n
        good = successes > 0 if self.estimate == "hard" else rate >= 0.5
        return self.event(
            item,
            step,
            "label",
            value=1 if good else -1,
            confidence=rate if good else 1.0 - rate,
            meta={
                "n": n,
                "successes": successes,
                "rate": rate,
                "estimate": self.estimate,
                "generator": self.generator,
                **meta,
            },
        )
