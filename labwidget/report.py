"""``labwidget report``: the dashboard's figures as one HTML file that opens anywhere, offline.

The file holds everything it shows: the figures of ``Store.summary()`` as JSON, and the same
panels and charts the dashboard draws, as inline script and style. A Content-Security-Policy
in the file forbids every request, so the page cannot load anything even if it tried.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from labwidget._bundle import STATIC
from labwidget._team import team_figures
from labwidget.store import Store

# Inline script and style only; no request of any kind (no fetch, no images, no fonts) leaves it.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)

# JupyterLab's theme variables, which the dashboard's CSS reads, for a page outside JupyterLab:
# its light theme, and its dark one where the reader's system asks for dark.
THEME = """
:root { color-scheme: light dark;
  --jp-layout-color0: #fff; --jp-layout-color1: #fff; --jp-layout-color2: #eee;
  --jp-ui-font-color1: rgba(0, 0, 0, 0.87); --jp-ui-font-color2: rgba(0, 0, 0, 0.54);
  --jp-border-color2: #e0e0e0; --jp-brand-color1: #1976d2; --jp-warn-color1: #f57c00;
  --jp-error-color1: #d32f2f; }
@media (prefers-color-scheme: dark) { :root {
  --jp-layout-color0: #111; --jp-layout-color1: #212121; --jp-layout-color2: #424242;
  --jp-ui-font-color1: rgba(255, 255, 255, 0.87); --jp-ui-font-color2: rgba(255, 255, 255, 0.54);
  --jp-border-color2: #424242; --jp-brand-color1: #64b5f6; --jp-warn-color1: #ffb74d;
  --jp-error-color1: #ef5350; } }
body { margin: 16px; background: var(--jp-layout-color0);
  color: var(--jp-ui-font-color1); font-family: system-ui, sans-serif; }
"""


def _front_end() -> tuple[str, str]:
    try:
        script = (STATIC / "report.js").read_text(encoding="utf-8")
        style = (STATIC / "report.css").read_text(encoding="utf-8")
    except OSError as exc:
        raise OSError(
            f"cannot read labwidget's report front end ({exc}); run `npm run build`"
        ) from exc
    if "</script" in script.lower():
        raise ValueError("report.js holds '</script' and cannot be inlined; rebuild it")
    return script, style


def report_html(summary: dict[str, Any], *, title: str) -> str:
    """The report page for ``summary`` (as ``Store.summary()`` returns it), as one string."""
    script, style = _front_end()
    # "<" as \u003c: nothing in a dataset's or annotator's name can end the script element.
    data = json.dumps(summary, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{THEME}\n{style}</style>\n</head>\n<body>\n"
        '<main id="labwidget-report">'
        "<p>This report draws its charts with the script inside it; allow scripts to see them.</p>"
        "</main>\n"
        f'<script type="application/json" id="labwidget-summary">{data}</script>\n'
        f'<script type="module">{script}</script>\n'
        "</body>\n</html>\n"
    )


def write_report(
    store: Store, path: str | os.PathLike[str], **summary_options: Any
) -> dict[str, Any]:
    """Write the report of ``store`` to ``path``; returns the summary it shows.

    The summary is ``Store.summary()``'s with the team's figures: ``agreement`` (Cohen's κ of
    each pair of people, α over all) and ``review`` (items waiting for review, or None).

    Args:
        store: the store to report on.
        path: the HTML file to write (replaced if it exists).
        **summary_options: ``since``, ``until``, ``dataset``, ``timezone``, ``week_start``,
            ``weekly_cap_h``, ``idle_cap_s``, as for ``Store.summary``.
    """
    summary = store.summary(**summary_options)
    summary.update(
        team_figures(store, dataset=summary_options.get("dataset"), sources=summary["sources"])
    )
    where = store.url.render_as_string(hide_password=True)
    scope = summary["options"]["dataset"] or "all datasets"
    page = report_html(summary, title=f"Labeling report: {where} ({scope})")
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)  # a reader never sees half a report
    return summary
