"""The widgets' front end comes from the server extension once per page, or else from the kernel."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from labwidget._bundle import STATIC, digest
from tests.browser.jupyterlab_driver import (
    open_notebook,
    run_all_cells,
    wait_for_rows,
    write_notebook,
)

LABELER = (
    "import labwidget as lw\n"
    "lw.StepLabeler(prompt='2 + 2?', steps=['2 + 2 = 4', 'So 4.'], store=lw.Store('bundles.db'))"
)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Report a redirect (to the login page) as it is instead of following it."""

    def redirect_request(self, *args: Any) -> None:
        return None


def fetch(server: Any, path: str, *, token: bool = True) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"token {server.token}"} if token else {}
    request = urllib.request.Request(f"{server.url}{path}", headers=headers)
    try:
        with urllib.request.build_opener(NoRedirects).open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


@pytest.mark.parametrize("name", ["steps.js", "steps.css", "pair.js", "pair.css"])
def test_the_server_serves_each_file_under_its_digest_only(jupyter_server: Any, name: str) -> None:
    current = digest(name)
    assert current is not None
    status, headers, body = fetch(jupyter_server, f"/labwidget/static/{current}/{name}")
    assert status == 200
    assert body == (STATIC / name).read_bytes()
    assert headers["Content-Type"].startswith(
        "text/javascript" if name.endswith(".js") else "text/css"
    )
    assert "immutable" in headers["Cache-Control"]
    # Another version's digest, a file that is not a bundle, or no login: nothing is served.
    assert fetch(jupyter_server, f"/labwidget/static/{'0' * 20}/{name}")[0] == 404
    assert fetch(jupyter_server, f"/labwidget/static/{current}/loader.py")[0] == 404
    assert fetch(jupyter_server, f"/labwidget/static/{current}/{name}", token=False)[0] in (
        302,
        403,
    )


def test_each_page_loads_the_bundle_from_the_server_once(page: Any, jupyter_server: Any) -> None:
    write_notebook(jupyter_server.root / "twice.ipynb", [LABELER, LABELER])
    bundle_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            bundle_requests.append(request.url) if "/labwidget/static/" in request.url else None
        ),
    )
    open_notebook(page, jupyter_server, "twice.ipynb")
    run_all_cells(page)
    page.locator("[data-testid=step-labeler]").nth(1).wait_for(state="visible")
    assert sorted(url.rsplit("/", 1)[1] for url in bundle_requests) == ["steps.css", "steps.js"]
    # ...and it came from there, added once: the kernel was not asked for its copy.
    added = "[...document.querySelectorAll('style[data-labwidget]')].map((s) => s.dataset.from)"
    assert page.evaluate(f"() => {added}") == ["server"]
    assert page.page_errors == []


def test_without_the_server_copy_the_kernel_sends_the_bundle(
    page: Any, jupyter_server: Any
) -> None:
    write_notebook(jupyter_server.root / "fallback.ipynb", [LABELER])
    # As on a server without labwidget's extension: every request for the bundle fails.
    page.route("**/labwidget/static/**", lambda route: route.fulfill(status=404, body=""))
    open_notebook(page, jupyter_server, "fallback.ipynb")
    run_all_cells(page)
    page.get_by_test_id("step-labeler").wait_for(state="visible")
    page.get_by_test_id("prompt").click()
    page.keyboard.press("3")
    rows = wait_for_rows(
        jupyter_server.root / "bundles.db", "SELECT step, value FROM label_events", 1
    )
    assert rows == [(0, 1)]
    page.wait_for_selector('[data-testid="step-0"][data-status="saved"]')
    assert page.evaluate(
        "() => document.querySelector('style[data-labwidget=steps][data-from=kernel]') !== null"
    )
