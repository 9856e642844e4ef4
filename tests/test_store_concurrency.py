"""Eight processes labeling one store at once: every label present exactly once, none lost."""

from __future__ import annotations

import multiprocessing
import traceback

import labwidget as lw

WORKERS = 8
LABELS_EACH = 150
STEPS = 10


def label_many(url: str, item: str, worker: int) -> str | None:
    """Label from a fresh process, retrying every tenth event as a flaky page would."""
    try:
        with lw.Store(url, annotator=f"worker{worker}") as store:
            for n in range(LABELS_EACH):
                event_id = f"w{worker}-{n}"
                store.record_label(item=item, step=n % STEPS, value=n % 3 - 1, event_id=event_id)
                if n % 10 == 0:
                    assert not store.record_label(
                        item=item, step=n % STEPS, value=n % 3 - 1, event_id=event_id
                    )
    except BaseException:
        return traceback.format_exc()
    return None


def test_eight_processes_labeling_at_once_lose_nothing(store_url: str) -> None:
    with lw.Store(store_url) as store:
        item = store.add_item("q", [f"step {n}" for n in range(STEPS)])
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        failures = pool.starmap(label_many, [(store_url, item, w) for w in range(WORKERS)])
    assert [f for f in failures if f] == []
    with lw.Store(store_url) as store:
        events = store.events()
        current = store.labels()
    ids = [e["event_id"] for e in events]
    assert len(ids) == WORKERS * LABELS_EACH
    assert set(ids) == {f"w{w}-{n}" for w in range(WORKERS) for n in range(LABELS_EACH)}
    assert len(current) == WORKERS * STEPS
    last_value = {n % STEPS: n % 3 - 1 for n in range(LABELS_EACH)}
    assert {(e["annotator"], e["step"], e["value"]) for e in current} == {
        (f"worker{w}", step, value) for w in range(WORKERS) for step, value in last_value.items()
    }
