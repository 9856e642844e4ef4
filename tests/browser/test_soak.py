"""Kill the kernel and the whole server while labeling: no acked label is lost or doubled.

Four cycles in a real JupyterLab page (``benchmarks/_soak.py`` has the cycle and the checks;
``benchmarks/soak.py`` runs many): labels through the server extension, then a kernel SIGKILL;
the same, then a SIGKILL of the server and its kernel; then both again with every label through
the kernel. Keys keep coming after each kill, and after a kernel kill the page is left alone
long enough for the widget to resend its unacked labels once. Each
recovery is a user's: dismiss JupyterLab's dialog and re-run the cell, or start a new server,
reopen the notebook and re-run the cell. The store is then read with plain ``sqlite3``.

This test runs its own servers (it kills them), not the session's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks._soak import plan, soak

# A little over the widget's 3 s ack timeout: each unacked label is resent once.
LINGER_MS = 4_000


def test_no_acked_label_is_lost_or_doubled_when_the_kernel_or_server_is_killed(
    browser: Any, tmp_path: Path
) -> None:
    cycles = plan(4, before=(8, 16), after=4, linger_ms=LINGER_MS, seed=12)
    assert {(cycle.route, cycle.kill) for cycle in cycles} == {
        (route, kill) for route in ("direct", "kernel") for kill in ("kernel", "server")
    }
    with soak(browser, tmp_path, seed=12) as runner:
        outcome = runner.run(cycles, last=8)

    assert outcome.lost == [], "acked, not stored:\n" + outcome.evidence(outcome.lost)
    assert outcome.doubled == [], "stored twice:\n" + outcome.evidence(outcome.doubled)
    assert outcome.changed == [], "stored otherwise:\n" + outcome.evidence(outcome.changed)
    assert outcome.unknown == [], f"stored, never sent: {outcome.unknown}"
    # Both routes carried acked labels, and labeling resumed after every kill.
    assert outcome.acked("direct")
    assert outcome.acked("kernel")
    resumed = {outcome.events[event_id].cycle for event_id in outcome.acked()}
    assert resumed == set(range(len(cycles) + 1))
    # The last round, with nothing killed, saved every key.
    last = [event for event in outcome.events.values() if event.cycle == len(cycles)]
    assert len(last) == 8
    assert all(event.acked is not None for event in last)
    # A widget whose kernel died says so on the page: nothing is thrown uncaught.
    assert outcome.page_errors == []
