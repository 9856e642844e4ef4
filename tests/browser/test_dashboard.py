"""The dashboard in a real JupyterLab, and the HTML report in Chromium with the network cut off."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import labwidget as lw
from tests.browser.jupyterlab_driver import open_notebook, run_all_cells, write_notebook

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
PEOPLE = {"ana": 25, "bo": 14, "chen": 9, "dara": 5}  # hours labeled over six days
CAP_H = 6
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Writes `count` ratings as another annotator would, from another process.
WRITER = """
import sys
import labwidget as lw
path, count = sys.argv[1], int(sys.argv[2])
with lw.Store(path, annotator="eve") as store:
    item = store.items()[0]["id"]
    with store.batch() as batch:
        for step in range(count):
            batch.record("rating", item=item, step=step, value=1, duration_ms=12_000)
"""


def week_start_of(now: datetime) -> str:
    """A week that began at midnight three days ago, so that it holds days of labels whatever
    the weekday the tests run on."""
    return WEEKDAYS[(now - timedelta(days=3)).weekday()]


def demo_store(path: Path, now: datetime) -> None:
    """Six days of a small team's labeling at a person's pace, with a model and a method."""
    rng = random.Random(17)
    with lw.Store(path, annotator="lead") as store:
        _demo_labels(store, now, rng)
        store.claim(40, annotator="erin")  # items no one has labeled yet


def _demo_labels(store: lw.Store, now: datetime, rng: random.Random) -> None:
    with store.batch() as batch:
        queue = iter(
            [
                batch.add_item(f"Problem {i}", [f"step {s}" for s in range(8)],
                               dataset="math" if i % 4 else "code")
                for i in range(2_500)
            ]
        )  # fmt: skip

        def label(kind: str, item: str, who: str, at: datetime, **fields: Any) -> None:
            batch.record(kind, item=item, annotator=who, created_at=at, **fields)

        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for days_ago in range(6, -1, -1):
            for n, (person, hours) in enumerate(PEOPLE.items()):
                # Each person's day: from 9:00 (UTC) on, this many hours at a person's pace.
                at = midnight - timedelta(days=days_ago, hours=-9 - n)
                end = min(at + timedelta(hours=hours / 6), now)
                while at < end:
                    item = next(queue)
                    for step in range(8):
                        gap = timedelta(seconds=rng.uniform(8, 40))
                        at += gap
                        value = rng.choices((1, 0, -1), weights=(85, 8, 7))[0]
                        ms = int(gap.total_seconds() * 1000)
                        label("rating", item, person, at, step=step, value=value, duration_ms=ms)
                        if value == -1:
                            break
                    gap = timedelta(seconds=rng.uniform(2, 6))
                    at += gap
                    reason = "found_error" if value == -1 else "solution"
                    ms = int(gap.total_seconds() * 1000)
                    label("finish", item, person, at, text=reason, duration_ms=ms)
                    for source, machine in (("model:prm-7b", "prm-7b"), ("auto:bisect", "bisect")):
                        if rng.random() < 0.3:
                            for step in range(8):
                                value = rng.choices((1, 0, -1), weights=(80, 10, 10))[0]
                                label("rating", item, machine, at, step=step, value=value,
                                      source=source)  # fmt: skip
        # Second opinions: each person rates 30 items more that others rate too, each step's
        # truth flipped at their own rate, so agreement has pairs to show.
        yesterday = midnight - timedelta(hours=14)
        for _ in range(30):
            item = next(queue)
            truth = [rng.choices((1, -1), weights=(85, 15))[0] for _ in range(8)]
            for slip, person in zip((0.05, 0.1, 0.2, 0.35), PEOPLE, strict=True):
                for step, value in enumerate(truth):
                    rated = -value if rng.random() < slip else value
                    label("rating", item, person, yesterday, step=step, value=rated)


def text(page: Any, test_id: str) -> str:
    return str(page.get_by_test_id(test_id).first.inner_text()).strip()


def test_dashboard_renders_updates_live_and_follows_the_theme(
    page: Any, jupyter_server: Any
) -> None:
    now = datetime.now(timezone.utc)
    db = jupyter_server.root / "dash.db"
    demo_store(db, now)
    start = week_start_of(now)
    with lw.Store(db) as store:
        summary = store.summary(weekly_cap_h=CAP_H, week_start=start)
    write_notebook(
        jupyter_server.root / "dash.ipynb",
        [
            "import labwidget as lw\nstore = lw.Store('dash.db')",
            f"lw.Dashboard(store, weekly_cap_h={CAP_H}, week_start={start!r}, poll_s=0.2)",
        ],
    )
    open_notebook(page, jupyter_server, "dash.ipynb")
    run_all_cells(page)
    dashboard = page.get_by_test_id("dashboard")
    dashboard.wait_for(state="visible")
    # Its front end came from labwidget's server extension, once, not through the kernel.
    assert page.locator("style[data-labwidget=dashboard][data-from=server]").count() == 1
    page.wait_for_selector("[data-testid=panel-week] svg")
    totals = summary["totals"]
    assert text(page, "total-labels") == f"{totals['labels']:,}"
    assert text(page, "total-human") == f"{totals['human']:,}"
    assert text(page, "total-automatic") == f"{totals['automatic']:,}"
    crossed = [r["annotator"] for r in summary["week"]["annotators"] if r["crossed"]]
    assert crossed  # the demo's heaviest labeler is over the cap this week
    assert all(name in text(page, "cap-crossed") for name in crossed)
    assert "live" in text(page, "dashboard-status")

    # Every panel can be reached with the keyboard, and each chart says what it shows.
    panels = page.locator(".lw-dash__panel")
    assert panels.count() == 6
    for i in range(panels.count()):
        assert panels.nth(i).get_attribute("tabindex") == "0"
        assert panels.nth(i).get_attribute("aria-labelledby")
    labels = page.locator("[data-testid=dashboard] svg[aria-label]")
    assert labels.count() >= 5
    # Agreement is counted after the first paint: the heatmap arrives, each pair both ways.
    heatmap = page.locator("[data-testid=panel-agreement] svg[aria-label^=Agreement]")
    heatmap.wait_for(timeout=30_000)
    assert heatmap.locator("rect").count() == 12  # 6 pairs of 4 people, both ways round
    page.get_by_test_id("panel-week").focus()
    page.keyboard.press("Tab")  # to the week's "Numbers"
    page.keyboard.press("Enter")
    week_table = page.get_by_test_id("table-week")
    week_table.wait_for(state="visible")
    first = summary["week"]["annotators"][0]
    assert week_table.locator("tbody tr").first.locator("th").inner_text() == first["annotator"]

    # Another process labels: the dashboard shows it without running a cell.
    subprocess.run([sys.executable, "-c", WRITER, str(db), "3"], check=True, timeout=60)
    page.wait_for_function(
        "(n) => document.querySelector('[data-testid=total-labels]').textContent === n",
        arg=f"{totals['labels'] + 3:,}",
        timeout=30_000,
    )
    assert week_table.is_visible()  # a live update keeps the open table open
    assert page.page_errors == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Tall and wide enough that the whole widget, two panels a row, is on the screen at once.
    page.set_viewport_size({"width": 1500, "height": 2000})
    widget = page.locator(".lw-dash-widget")
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(SCREENSHOTS / "dashboard-light.png"))
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Dark'}); }"
    )
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.lw-dash__panel')).backgroundColor"
        " !== 'rgb(255, 255, 255)'"
    )
    # Text follows the theme: light on dark.
    colour = page.evaluate(
        "() => getComputedStyle(document.querySelector('.lw-dash__title')).color"
    )
    assert colour != "rgba(0, 0, 0, 0.87)"
    widget.screenshot(path=str(SCREENSHOTS / "dashboard-dark.png"))


def test_report_opens_offline_and_shows_the_summary(browser: Any, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    db, report = tmp_path / "dash.db", tmp_path / "report.html"
    demo_store(db, now)
    start = week_start_of(now)
    with lw.Store(db) as store:
        summary = lw.write_report(store, report, weekly_cap_h=CAP_H, week_start=start)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    context.set_offline(True)
    refused: list[str] = []

    def only_the_file(route: Any) -> None:
        if route.request.url == report.as_uri():
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert (requested, refused) == ([report.as_uri()], [])
        assert errors == []
        totals, queue = summary["totals"], summary["queue"]
        assert text(page, "total-labels") == f"{totals['labels']:,}"
        assert text(page, "total-human") == f"{totals['human']:,}"
        assert text(page, "total-automatic") == f"{totals['automatic']:,}"
        assert text(page, "queue-done") == f"{queue['done']:,} of {queue['items']:,}"
        assert text(page, "queue-claimed") == f"{queue['claimed']:,}"
        assert text(page, "queue-open") == f"{queue['open']:,}"
        # The tables hold every figure, whether their "Numbers" are open or not.
        rows = page.get_by_test_id("table-distribution").locator("tbody tr")
        shown = {
            rows.nth(i).locator("th").text_content(): [
                int(cell.replace(",", ""))
                for cell in rows.nth(i).locator("td").all_text_contents()[:4]
            ]
            for i in range(rows.count())
        }
        assert shown == {
            f"{r['dataset']} · {r['source']}": [
                r["ratings"]["-1"], r["ratings"]["0"], r["ratings"]["1"], r["flags"],
            ]
            for r in summary["distribution"]
        }  # fmt: skip
        sources = page.get_by_test_id("table-sources").locator("tbody tr")
        assert {
            sources.nth(i).locator("th").text_content(): int(
                sources.nth(i).locator("td").text_content().replace(",", "")
            )
            for i in range(sources.count())
        } == summary["sources"]
        kappas = page.get_by_test_id("table-agreement").locator("tbody tr")
        assert {
            kappas.nth(i).locator("th").text_content(): kappas.nth(i)
            .locator("td")
            .first.text_content()
            for i in range(kappas.count())
        } == {f"{k['a']} · {k['b']}": f"{k['kappa']:.3f}" for k in summary["agreement"]["kappa"]}
        assert len(summary["agreement"]["kappa"]) == 6
        assert text(page, "queue-review") == f"{summary['review']['items']:,}"
        assert page.locator("[data-testid=panel-agreement] svg rect").count() == 12
        # The reader's dark scheme: the page is dark.
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 17, 17)"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report-dark.png"), full_page=True)
    finally:
        context.close()
