"""The team's figures beside a summary: agreement between people, what is left to review.

The dashboard and ``labwidget report`` show them with ``Store.summary()``'s figures. They read
more than the summary does (agreement reads every current rating; the review queue every
machine rating), so the dashboard counts them again at most every few seconds, not per label.
"""

from __future__ import annotations

from typing import Any

from labwidget.agreement import agreement
from labwidget.store import Store


def team_figures(
    store: Store, *, dataset: str | None = None, sources: dict[str, int] | None = None
) -> dict[str, Any]:
    """Cohen's κ of each pair of people and α over all, and the items waiting for review.

    Returns ``{"agreement": {"alpha", "items", "steps", "kappa": [{a, b, kappa, items,
    steps}]} or {"error"}, "review": {"items"} or None}``. ``sources`` (the summary's labels per
    source) saves reading the review queue where no rollouts were stored: ``review`` is None
    then.
    """
    try:
        found = agreement(store, dataset=dataset)
    except ImportError as exc:  # krippendorff and scikit-learn are an optional extra
        figures: dict[str, Any] = {"error": str(exc)}
    else:
        figures = {
            "alpha": found.alpha["alpha"],
            "items": found.alpha["items"],
            "steps": found.alpha["steps"],
            "kappa": [
                {k: row[k] for k in ("a", "b", "kappa", "items", "steps")} for row in found.kappa
            ],
        }
    # Machine labeling loads only where it is used: `import labwidget` stays light.
    from labwidget.auto.router import ROLLOUT_SOURCES, review_queue

    rollouts = sources is None or any(source in sources for source in ROLLOUT_SOURCES)
    review = {"items": len(review_queue(store, dataset=dataset))} if rollouts else None
    return {"agreement": figures, "review": review}
