"""Time to first paint of 1,000 steps with math: StepLabeler against plain ipywidgets.

Every side shows the same 1,000 steps, each with inline and display math, in a real JupyterLab
page (Chromium, 1280 x 900), measured the same way in the same run:

* **labwidget**: ``StepLabeler(prompt, steps, store=store)`` on a fresh SQLite store; the
  steps are Markdown (``**Step i.** Since $x_{i} = \\frac{a}{b}$ and $$\\sum ...$$ ...``).
* **labwidget+heatmap**: the same, plus 100,000 tokens (100 a step: the step's text cut into
  pieces) with a float score each. Measured only when ``StepLabeler`` takes ``token_scores``.
  With the heatmap on, a step shows its coloured tokens in place of its rendered text.
* **anywidget floor**: the smallest anywidget showing one row (a word and three buttons),
  measured the same way: how soon any widget can appear after the execute request in this
  JupyterLab, whatever it draws. labwidget's time over it is printed.
* **ipywidgets**: ``VBox([HBox([HTMLMath(step), Button("−1"), Button("0"), Button("+1")]) ...])``,
  the plain way to build the same thing, with the steps as HTML (``<b>Step i.</b> ...``), since
  ``HTMLMath`` does not read Markdown.

Each side gets a fresh browser context (empty cache) and a fresh kernel, and a notebook of the
same shape: cell 1 imports a module written for that side, which builds the list of steps (not
timed); cell 2 is the same four lines for every side (``widget = build()`` and show it). In one
``page.evaluate`` the page notes ``performance.now()``, starts a ``requestAnimationFrame`` poll
and runs cell 2. **Time to first paint** runs from that mark, the moment the execute request is
sent, to the first animation frame that begins with

* the widget's first row showing its content (typeset math: KaTeX for labwidget, MathJax's
  ``mjx-container`` for ``HTMLMath``; coloured token spans with the heatmap) and its three
  rating buttons, and
* every row on screen doing the same (on screen: intersecting the viewport as clipped by the
  notebook's scrolling container), with the rows reaching past its bottom (or all steps
  present).

The poll reads row geometry only once the first row is complete; the layout that forces is
one the frame needs for painting anyway. The script also prints when the first row reached the
DOM (still untypeset), how long the kernel took to build the widgets (their comm messages go
out then) and how much of that was full garbage collections, and, for labwidget, **widget
render → first paint**: from the User Timing mark labwidget's loader sets as a
``StepLabeler``'s ``render`` starts (loading the bundle included), the part the widget's own
front end controls. Goals: labwidget ≤ 100 ms, and ipywidgets /
labwidget ≥ 20.

With 1,000 steps the ipywidgets side sometimes shows "Error displaying widget: model not found"
(``get_model`` in the ipywidgets manager) instead of its rows; such an attempt is reported and
repeated in a fresh page and kernel, up to five times.

    .venv/bin/python -m benchmarks.render                # from the repository root
    .venv/bin/python -m benchmarks.render --steps 200    # quicker
    .venv/bin/python -m benchmarks.render --without-ipywidgets  # labwidget only, no ratio
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from benchmarks._jupyter import (
    CELL_ERROR,
    browser_page,
    describe_machine,
    jupyter_lab,
    raise_cell_error,
    run_cell,
    trace_frames,
)
from labwidget import StepLabeler
from tests.browser.jupyterlab_driver import JupyterServer, chromium, open_notebook, write_notebook

PAINT_GOAL_MS = 100.0
RATIO_GOAL = 20.0
TOKENS_PER_STEP = 100  # 100,000 tokens over 1,000 steps

STEP = (
    r"Since $x_{%d} = \frac{a}{b}$ and $$\sum_{k=1}^{%d} k = \frac{%d \cdot %d}{2},$$"
    r" we get $x_{%d} + 1 = \frac{a + b}{b}$."
)
LABWIDGET_MODULE = f"""import labwidget as lw

STEP = {STEP!r}
steps = [f"**Step {{i}}.** " + STEP % (i, i, i, i + 1, i) for i in range(N_STEPS)]
store = lw.Store(DB)
heatmap = {{}}
if TOKENS_PER_STEP:
    # Each step's own text cut into TOKENS_PER_STEP pieces, with made-up log-probs.
    tokens = [
        text[k * len(text) // TOKENS_PER_STEP : (k + 1) * len(text) // TOKENS_PER_STEP]
        for text in steps
        for k in range(TOKENS_PER_STEP)
    ]
    heatmap = dict(
        tokens=tokens,
        token_scores=[-((j * 7919) % 50) / 10.0 for j in range(len(tokens))],
        step_token_counts=[TOKENS_PER_STEP] * N_STEPS,
        score_kind="logprob",
    )


def build():
    return lw.StepLabeler(prompt="Solve for $x$.", steps=steps, store=store, **heatmap)
"""
IPYWIDGETS_MODULE = f"""import ipywidgets as W

STEP = {STEP!r}
steps = [f"<b>Step {{i}}.</b> " + STEP % (i, i, i, i + 1, i) for i in range(N_STEPS)]


def build():
    return W.VBox([
        W.HBox([W.HTMLMath(step), W.Button(description="−1"), W.Button(description="0"),
                W.Button(description="+1")])
        for step in steps
    ])
"""
# The floor: the smallest anywidget that shows one row with content and three buttons. No widget
# appears sooner after the execute request in this JupyterLab, whatever it draws.
BARE_MODULE = """import anywidget


class Bare(anywidget.AnyWidget):
    _esm = '''export default { render({ el }) {
      el.innerHTML = '<div class="bare"><div class="bare-row"><span class="bare-content">ok</span>'
        + '<button>-1</button><button>0</button><button>+1</button></div></div>';
    } };'''


def build():
    return Bare()
"""
SHOW = """start = time.perf_counter()
widget = build()
BUILD_S = time.perf_counter() - start
widget"""
DUMP = "json.dump({'build_s': BUILD_S, 'full_gc_s': FULL_GC}, open('build.json', 'w'))"
# Notes how long each full (generation 2) garbage collection takes: one that lands in the timed
# cell is the interpreter's debt from earlier imports, paid by whichever cell comes first.
GC_WATCH = """import gc
FULL_GC = []
_gc_started = [0.0]


def _time_full_gc(phase, info):
    if info["generation"] == 2:
        if phase == "start":
            _gc_started[0] = time.perf_counter()
        else:
            FULL_GC.append(time.perf_counter() - _gc_started[0])


gc.callbacks.append(_time_full_gc)
"""


@dataclass(frozen=True)
class Side:
    """One way of showing the steps, and the CSS selectors that tell when its rows are painted."""

    name: str
    module: str
    root: str
    row: str
    content: str  # what a row shows once rendered: typeset math, or coloured tokens
    button: str
    heatmap: bool = False
    rows: int | None = None  # how many rows it shows, when not one per step


LABWIDGET = Side(
    "labwidget",
    LABWIDGET_MODULE,
    root='[data-testid="step-labeler"]',
    row="li.lw-step",
    content=".katex",
    button="button.lw-step__rate",
)
LABWIDGET_HEATMAP = replace(LABWIDGET, name="labwidget+heatmap", content=".lw-tok", heatmap=True)
IPYWIDGETS = Side(
    "ipywidgets",
    IPYWIDGETS_MODULE,
    root=".widget-vbox",
    row=":scope > .widget-hbox",
    content="mjx-container",
    button="button.widget-button",
)

BARE = Side(
    "anywidget floor",
    BARE_MODULE,
    root=".bare",
    row=".bare-row",
    content=".bare-content",
    button="button",
    rows=1,
)

# Runs cell `index` and polls every animation frame until the first screenful is complete.
MEASURE = """({ index, side, steps }) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets[index].node;
  const result = {};
  window.renderBench = result;
  const complete = (row) =>
    row.querySelector(side.content) !== null && row.querySelectorAll(side.button).length >= 3;

  // What is on screen: the viewport, clipped by the notebook's scrolling container.
  function visibleBand(root) {
    let top = 0;
    let bottom = window.innerHeight;
    for (let node = root.parentElement; node !== null; node = node.parentElement) {
      if (!/(auto|scroll)/.test(getComputedStyle(node).overflowY)) continue;
      const box = node.getBoundingClientRect();
      top = Math.max(top, box.top);
      bottom = Math.min(bottom, box.bottom);
    }
    return { top, bottom };
  }

  function screenful(root, rows) {
    if (!complete(rows[0])) return false;
    const band = visibleBand(root);
    let shown = 0;
    for (const row of rows) {
      const box = row.getBoundingClientRect();
      if (box.top >= band.bottom) return shown > 0;
      if (box.bottom <= band.top) continue;
      if (!complete(row)) return false;
      shown += 1;
    }
    return shown > 0 && rows.length === steps;
  }

  function poll() {
    const now = performance.now();
    const root = cell.querySelector('.jp-OutputArea ' + side.root);
    const rows = root === null ? [] : root.querySelectorAll(side.row);
    if (rows.length > 0 && result.firstRow === undefined) result.firstRow = now;
    if (rows.length > 0 && screenful(root, rows)) {
      result.paint = now;
      // labwidget's loader marks the start of a StepLabeler's render (js/loader.ts).
      const marks = performance.getEntriesByName('labwidget:steps:render');
      if (marks.length > 0) result.render = marks[marks.length - 1].startTime;
    }
    else requestAnimationFrame(poll);
  }

  // The cell at the top of the screen, so that its output has the screen below it: above a
  // short widget (StepLabeler scrolls within max_height) the next cell's output starts low.
  cell.scrollIntoView({ block: 'start' });
  result.start = performance.now();
  panel.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
  requestAnimationFrame(poll);
}"""
# ipywidgets sometimes shows "Error displaying widget: model not found" instead of 1,000 rows.
DISPLAY_FAILED = r"""({ index, root }) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index].node;
  const output = cell.querySelector('.jp-OutputArea');
  if (output === null || output.querySelector(root) !== null) return null;
  const text = output.textContent.replace(/\s+/g, ' ').trim();
  return /Error displaying widget|javascript error/.test(text) ? text.slice(0, 200) : null;
}"""
PAINTED_OR_FAILED = f"""({{ index, root }}) => window.renderBench.paint !== undefined
  || ({CELL_ERROR})(index) !== null || ({DISPLAY_FAILED})({{ index, root }}) !== null"""
ATTEMPTS = 5


class DisplayFailed(RuntimeError):
    """The page showed an error where the widget should be."""


@dataclass
class Paint:
    """One side's timings in ms, from the execute request, except ``build``, a duration."""

    build: float  # the kernel building the widget(s) and sending their comm messages
    displayed: float  # the cell's execute_result (the widget's view) reaching the page
    first_row: float  # a first step row in the DOM, typeset or not
    paint: float  # the first frame with a complete screenful
    render: float | None  # StepLabeler's render starting in the page (None for ipywidgets)
    full_gc: float  # full garbage collections during the build (ms, summed)
    # A second widget of the same side in the same page and kernel (labwidget sides only):
    # execute -> first paint, and its own render -> first paint.
    again: float | None = None
    again_render: float | None = None


def takes_token_scores() -> bool:
    """Whether this StepLabeler accepts per-token scores (the heatmap), checked at run time."""
    return "token_scores" in inspect.signature(StepLabeler.__init__).parameters


def measure_side(browser: Any, server: JupyterServer, side: Side, steps: int, run: int) -> Paint:
    """Opens a fresh notebook and page for ``side``, runs its set-up, then times its widget."""
    name = re.sub(r"\W", "_", side.name) + f"_{run}"  # an importable module name
    tokens = TOKENS_PER_STEP if side.heatmap else 0
    header = f"N_STEPS = {steps}\nTOKENS_PER_STEP = {tokens}\nDB = {name + '.db'!r}\n"
    (server.root / f"{name}.py").write_text(header + side.module)
    setup = f"import json, time\nfrom {name} import build\n{GC_WATCH}"
    # Only labwidget's sides: ipywidgets' second run would take another 15 s.
    again = side not in (IPYWIDGETS, BARE)
    write_notebook(server.root / f"{name}.ipynb", [setup, SHOW, DUMP] + [SHOW] * again)
    with browser_page(browser, server) as page:
        page.add_init_script(trace_frames(r'"msg_type":\s*"execute_result"'))
        open_notebook(page, server, f"{name}.ipynb")
        run_cell(page, 0)
        rows = side.rows or steps
        page.evaluate(MEASURE, {"index": 1, "side": asdict(side), "steps": rows})
        where = {"index": 1, "root": side.root}
        page.wait_for_function(PAINTED_OR_FAILED, arg=where, polling=100)
        raise_cell_error(page, 1)
        failure = page.evaluate(DISPLAY_FAILED, where)
        if failure is not None:
            raise DisplayFailed(failure)
        result = page.evaluate("() => window.renderBench")
        displayed = min(page.evaluate("() => window.frameTimes").values())
        run_cell(page, 2)
        kernel = json.loads((server.root / "build.json").read_text())
        second = None
        if again:
            page.evaluate(MEASURE, {"index": 3, "side": asdict(side), "steps": rows})
            page.wait_for_function(PAINTED_OR_FAILED, arg={**where, "index": 3}, polling=100)
            raise_cell_error(page, 3)
            second = page.evaluate("() => window.renderBench")
    start = result["start"]
    render = result.get("render")
    paint = Paint(
        kernel["build_s"] * 1e3,
        displayed - start,
        result["firstRow"] - start,
        result["paint"] - start,
        None if render is None else render - start,
        sum(kernel["full_gc_s"]) * 1e3,
    )
    if second is not None:
        paint.again = second["paint"] - second["start"]
        paint.again_render = second["paint"] - second["render"]
    return paint


def measure_with_retries(
    browser: Any, server: JupyterServer, side: Side, steps: int, run: int
) -> Paint:
    """``measure_side``, again in a fresh page and kernel when the widget fails to display."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return measure_side(browser, server, side, steps, run * ATTEMPTS + attempt)
        except DisplayFailed as failure:
            print(f"  run {run + 1} {side.name:<17} attempt {attempt} FAILED to display: {failure}")
    raise RuntimeError(f"{side.name} failed to display {ATTEMPTS} times")


def report(steps: int, results: dict[str, list[Paint]]) -> None:
    runs = len(results[LABWIDGET.name])
    print(f"\n{steps} steps with inline and display math, median of {runs} run(s) each:")
    baseline = results.get(IPYWIDGETS.name)
    plain = statistics.median(p.paint for p in baseline) if baseline else None
    floor = statistics.median(p.paint for p in results[BARE.name])
    for name, paints in results.items():
        paint = statistics.median(p.paint for p in paints)
        row = statistics.median(p.first_row for p in paints)
        print(
            f"  {name:<17} execute -> first paint {paint:6.0f} ms (first row in DOM {row:5.0f} ms)"
        )
        if name in (IPYWIDGETS.name, BARE.name):
            continue
        print(f"  {'':<17} over the anywidget floor: {paint - floor:+6.0f} ms")
        own = statistics.median(p.paint - p.render for p in paints if p.render is not None)
        ok = "met" if paint <= PAINT_GOAL_MS else "NOT met"
        own_ok = "met" if own <= PAINT_GOAL_MS else "NOT met"
        ratio = "no ipywidgets run, no ratio"
        if plain is not None:
            ratio_ok = "met" if plain / paint >= RATIO_GOAL else "NOT met"
            ratio = (
                f"ipywidgets / {name} = {plain / paint:.1f}x, goal >= {RATIO_GOAL:g}x: {ratio_ok}"
            )
        print(f"  {'':<17} widget render -> first paint {own:6.0f} ms")
        again = [(p.again, p.again_render) for p in paints if p.again and p.again_render]
        if again:
            execute, own_render = (statistics.median(times) for times in zip(*again, strict=True))
            print(
                f"  {'':<17} a second widget in the same page and kernel: execute -> first paint "
                f"{execute:6.0f} ms, from its render {own_render:4.0f} ms"
            )
        print(
            f"  {'':<17} goal <= {PAINT_GOAL_MS:g} ms: from execute {ok}, from render {own_ok}; "
            + ratio
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs of each side, in alternating order (ipywidgets takes ~1 min a run)",
    )
    parser.add_argument(
        "--without-ipywidgets",
        action="store_true",
        help="time only labwidget's sides (no ratio): for a quick check while optimising",
    )
    args = parser.parse_args()
    print(describe_machine())
    started = time.monotonic()
    sides = [LABWIDGET, BARE] if args.without_ipywidgets else [LABWIDGET, BARE, IPYWIDGETS]
    if takes_token_scores():
        sides.insert(1, LABWIDGET_HEATMAP)
        print(f"heatmap: {TOKENS_PER_STEP * args.steps:,} tokens with scores")
    else:
        print(
            "heatmap: NOT measured: StepLabeler takes no token_scores argument yet, "
            "so only the steps with math are shown"
        )
    results: dict[str, list[Paint]] = {side.name: [] for side in sides}
    with jupyter_lab() as server, chromium() as browser:
        for run in range(args.repeats):
            # Alternate the order, so that no side always meets a warmer machine.
            for side in sides if run % 2 == 0 else sides[::-1]:
                paint = measure_with_retries(browser, server, side, args.steps, run)
                results[side.name].append(paint)
                print(
                    f"  run {run + 1} {side.name:<17} first paint {paint.paint:6.0f} ms; "
                    f"kernel build {paint.build:5.0f} ms (full GC in it {paint.full_gc:3.0f} ms), "
                    "view message in page at "
                    f"{paint.displayed:5.0f} ms, "
                    + ("" if paint.render is None else f"render starts at {paint.render:5.0f} ms, ")
                    + f"first row in DOM at {paint.first_row:5.0f} ms"
                    + ("" if paint.again is None else f"; a second widget {paint.again:4.0f} ms")
                )
    report(args.steps, results)
    print(f"whole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
