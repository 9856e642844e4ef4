"""``<base_url>labwidget/static/<digest>/<file>``: the built front end, cacheable for good."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labwidget._bundle import STATIC, digest

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

BUNDLE_ROUTE = "labwidget/static"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def serve_bundles(serverapp: ServerApp) -> None:
    """Route ``<base_url>labwidget/static/<digest>/<file>`` to :class:`BundleHandler`."""
    from jupyter_server.utils import url_path_join

    route = url_path_join(serverapp.base_url, BUNDLE_ROUTE, r"([0-9a-f]+)/([\w.]+)")
    serverapp.web_app.add_handlers(".*$", [(route, bundle_handler())])  # type: ignore[no-untyped-call]


@cache
def bundle_handler() -> type[Any]:
    """The request handler, made on first use so that importing this module stays light."""
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    class BundleHandler(JupyterHandler):
        """Serves a bundle file when the digest in the URL is its own; immutable once served."""

        @web.authenticated
        def get(self, wanted: str, name: str) -> None:
            if digest(name) != wanted:
                raise web.HTTPError(404)
            self.set_header("Content-Type", CONTENT_TYPES[Path(name).suffix])
            self.set_header("Cache-Control", "private, max-age=31536000, immutable")
            self.finish((STATIC / name).read_bytes())

    return BundleHandler
