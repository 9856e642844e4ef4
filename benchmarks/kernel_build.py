"""The kernel's share of first paint: building a 1,000-step StepLabeler in a fresh ipykernel.

``benchmarks/render.py`` times the whole trip in a browser, where a shared machine's load moves
every figure. This starts a real kernel (jupyter_client, no browser), runs the same set-up cell
(``import labwidget``, open a store, make the steps) and then times the same ``build()`` cell:
wall time, and CPU time of the whole kernel process (``time.process_time``: all its threads),
which the load moves much less. The baseline, in the same kernel: a bare anywidget's build.

    .venv/bin/python -m benchmarks.kernel_build               # 7 fresh kernels
    .venv/bin/python -m benchmarks.kernel_build --kernels 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

from benchmarks._jupyter import describe_machine
from benchmarks.render import BARE_MODULE, LABWIDGET_MODULE

TIMED = """_t, _c = time.perf_counter(), time.process_time()
_widget = {build}()
print(json.dumps([(time.perf_counter() - _t) * 1e3, (time.process_time() - _c) * 1e3]))"""


def run(client: Any, code: str) -> str:
    """Runs ``code`` in the kernel; its printed output, or an error's traceback raised."""
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            raise RuntimeError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


def one_kernel(root: Path, n: int) -> tuple[list[float], list[float]]:
    """(wall, cpu) in ms of labwidget's build and of the bare anywidget's, in one fresh kernel."""
    labwidget = LABWIDGET_MODULE.replace("def build", "def build_labwidget")
    bare = BARE_MODULE.replace("def build", "def build_bare")
    header = f"N_STEPS = 1000\nTOKENS_PER_STEP = 0\nDB = {str(root / f'k{n}.db')!r}\n"
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(root))
    try:
        run(client, "import json, time\n" + header + labwidget + bare)
        time.sleep(0.5)  # the pause between cells
        found = [json.loads(run(client, TIMED.format(build=f"build_{side}"))) for side in SIDES]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return found[0], found[1]


SIDES = ("labwidget", "bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernels", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.kernels):
            labwidget, bare = one_kernel(Path(tmp), n)
            results.append((labwidget, bare))
            print(
                f"  kernel {n + 1}: labwidget build {labwidget[0]:6.1f} ms wall, "
                f"{labwidget[1]:5.1f} ms CPU; bare anywidget {bare[0]:5.1f} / {bare[1]:4.1f} ms"
            )
    wall, cpu = (statistics.median(r[0][k] for r in results) for k in (0, 1))
    bare_wall, bare_cpu = (statistics.median(r[1][k] for r in results) for k in (0, 1))
    print(
        f"\nmedians of {args.kernels} kernels: labwidget build {wall:.0f} ms wall, {cpu:.0f} ms "
        f"CPU; bare anywidget {bare_wall:.1f} ms wall, {bare_cpu:.1f} ms CPU "
        f"(labwidget / bare: {wall / bare_wall:.0f}x wall)"
    )


if __name__ == "__main__":
    main()
