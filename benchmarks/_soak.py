"""Kill cycles: label in a real JupyterLab while the kernel, or the whole server, is SIGKILLed.

Shared by the browser test (``tests/browser/test_soak.py``, a few cycles) and the benchmark
(``benchmarks/soak.py``, many). A soak runs its own ``jupyter lab`` servers, never the test
session's, since it kills them. One page labels a ``StepLabeler`` on an embedded SQLite store;
each cycle is:

1. run the notebook's cell (a fresh widget on the same item and store), focus the widget,
   press ``1``, ``2`` or ``3`` (rate and move on) and wait for that label's ack on the
   cycle's route; then press more of them back to back, without waiting for acks;
2. SIGKILL, with labels still in flight, either the kernel or the whole server (its process
   group and the kernel, which lives in a session of its own), and keep pressing a few keys;
3. recover as a user would: after a kernel kill the server restarts the kernel, so dismiss
   JupyterLab's "Kernel Restarting" dialog; after a server kill start a new server and open the
   notebook in it. The next cycle runs the cell again.

A last round labels without a kill and waits until no label is pending. The page's route for
labels alternates by cycle: *direct* (the server extension commits and acks them) or *kernel*
(the cell withholds the signed context, so every label goes through the kernel).

What the page sent and what was acked is read from the websocket frames (Playwright's events,
which outlive reloads): a label event on the labels socket or in a comm message to a kernel,
and an ``ack`` for its id on the same route. The page shows a label *saved* only on such an
ack. At the end plain ``sqlite3`` reads the store: every acked event id must be there exactly
once with the step and value the page sent, and every stored event must be one the page sent.

Each server has its own base folder and root (``running_jupyter_lab`` makes both). The store and
the cell's small files live in a folder outside them, named by absolute path in the cell, so
every server's kernel opens the same store file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._jupyter import VIEWPORT, run_cell
from tests.browser.jupyterlab_driver import (
    KERNEL_IDLE,
    JupyterServer,
    open_notebook,
    running_jupyter_lab,
    write_notebook,
)

NOTEBOOK = "soak.ipynb"
STEPS = 200
ROUTES = ("direct", "kernel")
KILLS = ("kernel", "server")

LABELER_CELL = """import json
import os

import labwidget as lw
import labwidget.widgets._item

DATA = {data!r}
with open(os.path.join(DATA, "phase.json")) as phase:
    DIRECT = json.load(phase)["direct"]
if not DIRECT:  # no signed context: the page sends every label through the kernel
    labwidget.widgets._item.kernel_key = lambda: None
labeler = lw.StepLabeler(
    prompt="Soak: rate each step.",
    steps=[f"Step {{n + 1}}: x = {{n + 1}}." for n in range({steps})],
    store=lw.Store(os.path.join(DATA, "labels.db")),
)
with open(os.path.join(DATA, "kernel.json"), "w") as out:
    json.dump({{"pid": os.getpid(), "signature": labeler._direct.get("signature")}}, out)
labeler"""


@dataclass
class Event:
    """One label event the page sent: what it said, how it went, and its frames for evidence."""

    step: int
    value: int | None
    cycle: int
    routes: list[str] = field(default_factory=list)
    acked: str | None = None
    errors: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


class Frames:
    """Label events a page sends on the labels socket and to kernels, and their replies."""

    def __init__(self, page: Any) -> None:
        self.events: dict[str, Event] = {}
        self.cycle = 0
        self._started = time.monotonic()
        # The page's labels socket (it has one at a time: a new one means the last is gone,
        # though Playwright may report its close later) and the signatures it was told "ready".
        self._socket: Any = None
        self._ready: set[str] = set()
        page.on("websocket", self._watch)

    def vouched(self, signature: str) -> bool:
        """Whether the server accepted ``signature`` on the page's labels socket, still open."""
        return signature in self._ready

    def _watch(self, ws: Any) -> None:
        if ws.url.endswith("/labwidget/labels"):
            self._socket, self._ready = ws, set()
            ws.on("framesent", lambda payload: self._sent("direct", json.loads(payload)))
            ws.on("framereceived", lambda payload: self._direct_reply(ws, json.loads(payload)))
            ws.on("close", lambda _: self._closed(ws))
        elif "/api/kernels/" in ws.url:
            ws.on("framesent", lambda payload: self._kernel_frame(payload, self._sent))
            ws.on("framereceived", lambda payload: self._kernel_frame(payload, self._replied))

    def _closed(self, ws: Any) -> None:
        if ws is self._socket:
            self._socket, self._ready = None, set()

    def _note(self, event_id: str, what: str) -> None:
        self.events[event_id].trace.append(f"{time.monotonic() - self._started:8.3f} s {what}")

    def _sent(self, route: str, message: Any) -> None:
        if not isinstance(message, dict) or message.get("kind") != "label":
            return
        event_id = str(message["id"])
        if event_id not in self.events:
            self.events[event_id] = Event(message["step"], message.get("value"), self.cycle)
        self.events[event_id].routes.append(route)
        self._note(event_id, f"sent {route}: {json.dumps(message)[:300]}")

    def _replied(self, route: str, reply: Any) -> None:
        if not isinstance(reply, dict) or reply.get("id") not in self.events:
            return
        event = self.events[reply["id"]]
        self._note(reply["id"], f"reply {route}: {json.dumps(reply)}")
        if reply.get("kind") == "ack" and event.acked is None:
            event.acked = route
        elif reply.get("kind") == "error":
            event.errors.append(str(reply.get("message")))

    def _direct_reply(self, ws: Any, reply: Any) -> None:
        if isinstance(reply, dict) and reply.get("kind") == "ready" and ws is self._socket:
            self._ready.add(str(reply.get("signature")))
        self._replied("direct", reply)

    def _kernel_frame(self, payload: str | bytes, handle: Callable[[str, Any], None]) -> None:
        content = custom_content(payload)
        if content is not None:
            handle("kernel", content)


def custom_content(payload: str | bytes) -> Any:
    """A widget's custom message in a kernel websocket frame, or None for any other frame.

    JupyterLab speaks jupyter_server's binary v1 protocol (offsets, channel, header, parent
    header, metadata, content, buffers) or, without it, one JSON message per text frame.
    """
    if isinstance(payload, str):
        message = json.loads(payload)
        header, content = message.get("header", {}), message.get("content", {})
    else:
        from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

        _, parts = deserialize_msg_from_ws_v1(payload)
        header = json.loads(parts[0])
        if header.get("msg_type") != "comm_msg":
            return None
        content = json.loads(parts[3])
    data = content.get("data") if header.get("msg_type") == "comm_msg" else None
    if not isinstance(data, dict) or data.get("method") != "custom":
        return None
    return data.get("content")


@dataclass(frozen=True)
class Cycle:
    """One cycle's plan: the route labels take, what is killed, and what the labeler does then.

    ``before`` keys (at least 1) are pressed before the kill, all but the first back to back,
    and ``after`` keys 30 ms apart after it; then the page is left alone for ``linger_ms``
    before recovering, as a person takes a while to notice (the widget resends an unacked
    label every 3 s and gives up after 12 s).
    """

    route: str
    kill: str
    before: int
    after: int
    linger_ms: int = 0


def plan(
    cycles: int, *, before: tuple[int, int], after: int, linger_ms: int = 0, seed: int = 0
) -> list[Cycle]:
    """Every (route, kill) pair in turn, each with a random count of keys before the kill.

    ``linger_ms`` applies to kernel kills; after a server kill the page is reloaded anyway.

    >>> [(c.route, c.kill) for c in plan(4, before=(5, 5), after=2)]
    [('direct', 'kernel'), ('direct', 'server'), ('kernel', 'kernel'), ('kernel', 'server')]
    >>> [c.linger_ms for c in plan(4, before=(5, 5), after=2, linger_ms=9)]
    [9, 0, 9, 0]
    """
    chooser = random.Random(seed)
    return [
        Cycle(
            route=ROUTES[n // 2 % 2],
            kill=KILLS[n % 2],
            before=chooser.randint(*before),
            after=after,
            linger_ms=linger_ms if KILLS[n % 2] == "kernel" else 0,
        )
        for n in range(cycles)
    ]


@dataclass
class Outcome:
    """What a soak did and what the store holds. ``lost``, ``doubled``, ``changed`` and
    ``unknown`` are event ids, and must all be empty:

    * lost: acked, but not in the store;
    * doubled: in the store more than once;
    * changed: in the store with another step or value than the page sent;
    * unknown: in the store, but never sent by the page.
    """

    cycles: int
    seconds: float
    events: dict[str, Event]
    stored: set[str]
    lost: list[str]
    doubled: list[str]
    changed: list[str]
    unknown: list[str]
    # Seconds from each kill until a label was acked again (not counting the linger), by kill.
    recoveries: dict[str, list[float]]
    page_errors: list[str]

    def acked(self, route: str | None = None) -> list[str]:
        """Acked event ids, acked on ``route`` or on either."""
        return [
            event_id
            for event_id, event in self.events.items()
            if event.acked is not None and route in (None, event.acked)
        ]

    def evidence(self, event_ids: list[str]) -> str:
        """Each event's cycle, step, value and frames, for a failure message."""
        return "\n".join(
            f"{event_id} (cycle {event.cycle}, step {event.step}, value {event.value}):\n  "
            + "\n  ".join(event.trace)
            for event_id in event_ids
            if (event := self.events.get(event_id)) is not None
        )


class Soak:
    """A page labeling through kill cycles, with the servers it needs under ``base``.

    Made by :func:`soak`, which closes what it opened: the page, and the server of the moment.
    """

    def __init__(self, browser: Any, base: Path, stack: ExitStack, *, seed: int) -> None:
        self._base = base
        self._data = base / "data"
        self._data.mkdir(parents=True)
        self._keys = random.Random(seed)
        self._stack = stack
        self._servers = 0
        self._server = ExitStack()
        stack.callback(self._server.close)
        self.server = self._start_server()
        context = browser.new_context(viewport=VIEWPORT)
        stack.callback(context.close)
        self.page = context.new_page()
        self.page.set_default_timeout(60_000)
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        # A notebook with unsaved outputs asks before the page is left for a new server: leave.
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.frames = Frames(self.page)
        self.recoveries: dict[str, list[float]] = {kill: [] for kill in KILLS}
        # What the last kill was, and when it happened (plus the time the page was left alone).
        self._killed: tuple[str, float] | None = None
        self._kernel: dict[str, Any] = {}
        open_notebook(self.page, self.server, NOTEBOOK)

    def run(
        self, cycles: list[Cycle], *, last: int, report: Callable[[str], None] | None = None
    ) -> Outcome:
        """Runs ``cycles``, then ``last`` keys (at least 1) with no kill, and checks the store.

        ``report`` gets a line on each cycle as it ends.
        """
        started = time.monotonic()
        for number, cycle in enumerate(cycles):
            self.frames.cycle = number
            self._show(cycle.route)
            self._press(cycle.before - 1)
            self._killed = (cycle.kill, time.monotonic() + cycle.linger_ms / 1e3)
            self._kill(cycle.kill)
            self._press(cycle.after, pause_ms=30)
            if cycle.linger_ms:
                self.page.wait_for_timeout(cycle.linger_ms)
            self._recover(cycle.kill)
            if report is not None:
                events = [e for e in self.frames.events.values() if e.cycle == number]
                acked = sum(event.acked is not None for event in events)
                report(
                    f"cycle {number + 1}/{len(cycles)}: {cycle.route} route, {cycle.kill} "
                    f"killed after {cycle.before} keys; {len(events)} labels sent, {acked} acked"
                )
        self.frames.cycle = len(cycles)
        self._show(ROUTES[len(cycles) // 2 % 2])
        self._press(last - 1)
        # With nothing killed every key's label is acked (the caller checks). Wait for the acks
        # themselves: a row may not show "saving…" yet, as the widget holds back its redraw
        # for a few ms while an ack is due.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self._all_acked(len(cycles), last):
            self.page.wait_for_timeout(20)
        seconds = time.monotonic() - started
        self._stack.close()  # the store is read once nothing can write to it
        return self._check(len(cycles), seconds)

    def _all_acked(self, cycle: int, keys: int) -> bool:
        """Whether cycle ``cycle`` sent a label for each of its ``keys`` and all were acked."""
        events = [event for event in self.frames.events.values() if event.cycle == cycle]
        return len(events) == keys and all(event.acked is not None for event in events)

    def _start_server(self) -> JupyterServer:
        self._server.close()
        self._servers += 1
        base = self._base / f"server-{self._servers}"
        base.mkdir()
        server = self._server.enter_context(running_jupyter_lab(base))
        cell = LABELER_CELL.format(data=str(self._data), steps=STEPS)
        write_notebook(server.root / NOTEBOOK, [cell])
        return server

    def _show(self, route: str) -> None:
        """Runs the cell for ``route`` and focuses the new widget, ready to take keys."""
        (self._data / "phase.json").write_text(json.dumps({"direct": route == "direct"}))
        (self._data / "kernel.json").unlink(missing_ok=True)
        run_cell(self.page, 0)
        self.page.get_by_test_id("step-labeler").wait_for(state="visible")
        self._kernel = json.loads((self._data / "kernel.json").read_text())
        signature = self._kernel["signature"]
        if route == "direct":
            self._wait_until(
                lambda: self.frames.vouched(signature), "the server vouched for the widget"
            )
        elif signature is not None:
            raise RuntimeError("the kernel signed a context though the cell withholds it")
        self.page.get_by_test_id("prompt").click()
        # One label acked on its route before the rest: the widget works again.
        sent = set(self.frames.events)
        self._press(1)
        self._wait_until(
            lambda: any(
                event.acked == route
                for event_id, event in self.frames.events.items()
                if event_id not in sent
            ),
            f"the first label was acked on the {route} route",
        )
        if self._killed is not None:
            kill, at = self._killed
            self.recoveries[kill].append(time.monotonic() - at)
            self._killed = None

    def _wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Lets the page run until ``condition()`` holds; ``what`` names it if it never does."""
        deadline = time.monotonic() + 30
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not so after 30 s: {what}")
            self.page.wait_for_timeout(20)

    def _press(self, count: int, *, pause_ms: int = 0) -> None:
        for _ in range(count):
            self.page.keyboard.press(self._keys.choice("123"))
            if pause_ms:
                self.page.wait_for_timeout(pause_ms)

    def _kill(self, kill: str) -> None:
        # The kernel runs in a session of its own, so the server's group does not include it.
        if kill == "server":
            os.killpg(server_pid(self.server), signal.SIGKILL)
        os.kill(self._kernel["pid"], signal.SIGKILL)

    def _recover(self, kill: str) -> None:
        if kill == "kernel":  # the server restarts it; JupyterLab says so in a dialog
            self.page.locator(".jp-Dialog", has_text="appears to have died").wait_for()
            self.page.locator(".jp-Dialog .jp-mod-accept").click()
            self.page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=50)
        else:
            self.server = self._start_server()
            open_notebook(self.page, self.server, NOTEBOOK)

    def _check(self, cycles: int, seconds: float) -> Outcome:
        # event_id is unique in the schema; counting copies anyway keeps this check if that changes.
        with closing(sqlite3.connect(self._data / "labels.db")) as con:
            rows = con.execute(
                "SELECT event_id, step, value, COUNT(*) FROM label_events GROUP BY event_id"
            ).fetchall()
        stored = {event_id: (step, value) for event_id, step, value, _ in rows}
        events = self.frames.events
        return Outcome(
            cycles=cycles,
            seconds=seconds,
            events=events,
            stored=set(stored),
            lost=[
                event_id
                for event_id, event in events.items()
                if event.acked is not None and event_id not in stored
            ],
            doubled=[event_id for event_id, _, _, count in rows if count > 1],
            changed=[
                event_id
                for event_id, shown in stored.items()
                if event_id in events and (events[event_id].step, events[event_id].value) != shown
            ],
            unknown=[event_id for event_id in stored if event_id not in events],
            recoveries=self.recoveries,
            page_errors=self.page_errors,
        )


def server_pid(server: JupyterServer) -> int:
    """The pid of ``server``'s process (and so of its process group), from its runtime file."""
    runtime = server.root.parent / "runtime"
    for info in runtime.glob("jpserver-*.json"):
        details = json.loads(info.read_text())
        if details.get("url", "").rstrip("/") == server.url:
            return int(details["pid"])
    raise RuntimeError(f"no jpserver-*.json in {runtime} for {server.url}")


@contextmanager
def soak(browser: Any, base: Path, *, seed: int = 0) -> Iterator[Soak]:
    """A :class:`Soak` in ``browser`` with its files under ``base``; all closed on exit."""
    with ExitStack() as stack:
        yield Soak(browser, base, stack, seed=seed)
