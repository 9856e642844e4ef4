"""`labwidget config` and `labwidget report` on a store file."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget import cli


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def path(tmp_path: Path) -> str:
    target = str(tmp_path / "labels.db")
    with lw.Store(target) as store:
        item = store.add_item("1+1?", ["1+1", "= 2"], dataset="math")
        when = datetime(2026, 11, 3, 10, tzinfo=timezone.utc)
        store.record_label(item=item, step=0, value=1, annotator="ana", created_at=when,
                           duration_ms=90_000)  # fmt: skip
        store.record_label(item=item, step=1, value=-1, annotator="ana", created_at=when,
                           duration_ms=45_000)  # fmt: skip
    return target


def test_config_sets_shows_and_unsets(capsys: pytest.CaptureFixture[str], path: str) -> None:
    assert run(capsys, "config", path) == (
        0, "no settings (labwidget config STORE NAME VALUE sets one)\n", "",
    )  # fmt: skip
    assert run(capsys, "config", path, "weekly_cap_h", "6") == (0, "weekly_cap_h: 6.0\n", "")
    assert run(capsys, "config", path, "timezone", "Europe/Berlin")[0] == 0
    assert run(capsys, "config", path) == (
        0, "timezone: Europe/Berlin\nweekly_cap_h: 6.0\n", "",
    )  # fmt: skip
    assert run(capsys, "config", path, "weekly_cap_h") == (0, "weekly_cap_h: 6.0\n", "")
    assert run(capsys, "config", path, "weekly_cap_h", "none") == (0, "weekly_cap_h: unset\n", "")
    with lw.Store(path) as store:
        assert store.settings() == {"timezone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("weekly_cap_h", "-6"), "weekly_cap_h is a number of hours above 0 (such as 6), not '-6'"),
        (("weekly_cap_h", "six"), "weekly_cap_h is a number of hours above 0"),
        (("week_start", "Montag"), "week_start is one of monday, tuesday"),
        (("cap", "6"), "there is no setting 'cap'; the settings are weekly_cap_h, timezone"),
    ],
)
def test_config_refuses_bad_settings(
    capsys: pytest.CaptureFixture[str], path: str, argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, "config", path, *argv)
    assert (code, out) == (1, "")
    assert err.startswith(f"labwidget: {message}")
    assert err.count("\n") == 1


def embedded_summary(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="labwidget-summary">(.*?)</script>', page
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_report_is_one_self_contained_file(
    capsys: pytest.CaptureFixture[str], path: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, printed, err = run(capsys, "report", path, "-o", str(out), "--since", "2026-11-01",
                             "--weekly-cap-h", "6")  # fmt: skip
    assert (code, err) == (0, "")
    assert printed == f"wrote {out}: 2 labels, 0.0 hours of labeling\n"
    page = out.read_text(encoding="utf-8")
    # Nothing is fetched: no external script, stylesheet, image or URL to load; the policy in
    # the page forbids every request besides.
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", page)
    summary = embedded_summary(page)
    assert summary["totals"]["labels"] == 2
    assert summary["options"]["since"] == "2026-11-01T00:00:00+00:00"
    assert summary["week"]["cap_h"] == 6.0
    assert [r["ms"] for r in summary["annotators"]] == [135_000]
    assert not list(tmp_path.glob(".*.partial"))


def test_report_text_cannot_end_its_script(path: str, tmp_path: Path) -> None:
    with lw.Store(path) as store:
        item = store.add_item("x", ["y"], dataset="</script><script>alert(1)</script>")
        store.record_label(item=item, step=0, value=1)
        out = tmp_path / "r.html"
        lw.write_report(store, out)
    page = out.read_text(encoding="utf-8")
    assert "alert(1)</script>" not in page
    dataset = "</script><script>alert(1)</script>"
    assert dataset in {row["dataset"] for row in embedded_summary(page)["distribution"]}


def test_report_refuses_bad_dates_and_missing_stores(
    capsys: pytest.CaptureFixture[str], path: str, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    code, _, err = run(capsys, "report", path, "-o", str(out), "--until", "2026-11-31")
    assert code == 1
    assert err.startswith("labwidget: until is a date such as 2026-11-02")
    code, _, err = run(capsys, "report", str(tmp_path / "nope.db"), "-o", str(out))
    assert (code, err) == (
        1,
        f"labwidget: there is no store at {tmp_path / 'nope.db'}; check the path\n",
    )
    assert not out.exists()
