"""Jupyter server extension: fast kernel websockets, the front end served once, direct commits.

* Kernel websockets send each frame at once (TCP_NODELAY). jupyter_server leaves Nagle's
  algorithm on; a widget's reply follows the kernel's ``status: busy`` frame, so it waited in
  the send buffer for the browser's delayed ACK (~40 ms): with Nagle off a keypress-to-reply
  round trip drops from ~45 ms to ~7 ms.
* ``<base_url>labwidget/static/<digest>/<file>`` serves the widgets' built JS and CSS under
  their content digest, cacheable for good. The widgets' small loader imports them from there,
  so a page loads and evaluates the bundle and its 376 KB stylesheet once, not once per widget
  inside every comm message. A digest that is not this server's file is a 404, and the loader
  then asks the kernel for its own copy (another labwidget version, or no extension at all).
* ``<base_url>labwidget/labels`` is a websocket on which the page sends labels for the server to
  commit and ack itself, under a context its kernel signed (``labwidget._direct``): a keypress
  gets its ack without the trip through the kernel.

Enabled on install by ``jupyter-config/jupyter_server_config.d/labwidget.json``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

STATIC = Path(__file__).resolve().parent / "static"
BUNDLE_FILES = ("steps.js", "steps.css", "pair.js", "pair.css", "dashboard.js", "dashboard.css")
BUNDLE_ROUTE = "labwidget/static"
LABELS_ROUTE = "labwidget/labels"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

CONNECTION_CLASS = "kernel_websocket_connection_class"
LOADED = "labwidget: kernel websockets send without delay (TCP_NODELAY)"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Name this module as the extension jupyter_server loads."""
    return [{"module": "labwidget._server"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    """Turn TCP_NODELAY on for kernel websockets, serve the bundles, take direct labels."""
    turn_nodelay_on(serverapp)
    serve_bundles(serverapp)
    serve_direct_labels(serverapp)


def turn_nodelay_on(serverapp: ServerApp) -> None:
    """Make the server's kernel websocket connections turn TCP_NODELAY on when they open.

    Extensions load after ``init_webapp``, so the connection class is in the web app's settings.
    """
    settings = serverapp.web_app.settings
    if settings.get(CONNECTION_CLASS) is None:
        serverapp.log.info(
            "labwidget: no %s in the server settings; Nagle left on", CONNECTION_CLASS
        )
        return
    settings[CONNECTION_CLASS] = nodelay_connection(settings[CONNECTION_CLASS])
    serverapp.log.info(LOADED)


def serve_bundles(serverapp: ServerApp) -> None:
    """Route ``<base_url>labwidget/static/<digest>/<file>`` to :class:`BundleHandler`."""
    from jupyter_server.utils import url_path_join

    route = url_path_join(serverapp.base_url, BUNDLE_ROUTE, r"([0-9a-f]+)/([\w.]+)")
    serverapp.web_app.add_handlers(".*$", [(route, bundle_handler())])  # type: ignore[no-untyped-call]


def serve_direct_labels(serverapp: ServerApp) -> None:
    """Route ``<base_url>labwidget/labels`` to the direct-commit websocket."""
    from jupyter_server.utils import url_path_join

    route = url_path_join(serverapp.base_url, LABELS_ROUTE)
    serverapp.web_app.add_handlers(".*$", [(route, label_socket_handler())])  # type: ignore[no-untyped-call]


def digest(name: str) -> str | None:
    """The content digest a bundle file is served under, or None when it is not built.

    Kept per file version, so a rebuilt bundle (``npm run dev``) gets a new digest.
    """
    path = STATIC / name
    if name not in BUNDLE_FILES or not path.is_file():
        return None
    stat = path.stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@cache
def _digest(path: Path, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:20]


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


@cache
def label_socket_handler() -> type[Any]:
    """The direct-commit websocket handler, made on first use like ``bundle_handler``."""
    from jupyter_core.utils import ensure_async
    from jupyter_server.auth.decorator import ws_authenticated
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.base.websocket import WebSocketMixin
    from tornado import web
    from tornado.websocket import WebSocketHandler

    from labwidget._direct import DirectCommits

    # One worker: commits leave the event loop (an fsync must not stall the server), and the
    # labels of all pages are written in the order they arrived.
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labwidget-direct")
    commits = DirectCommits()

    class LabelSocket(WebSocketMixin, WebSocketHandler, JupyterHandler):
        """Commits a page's labels under its kernels' signed contexts; replies ack or error.

        Opening it takes what executing code in a kernel takes: a login and the authorizer's
        ``execute`` on ``kernels``. Each message is handled before the next is read.
        """

        auth_resource = "kernels"

        def set_default_headers(self) -> None:
            """No JupyterHandler headers: they mean nothing on a websocket."""

        @ws_authenticated
        async def get(self, *args: Any, **kwargs: Any) -> None:
            user = self.current_user
            if not await ensure_async(
                self.authorizer.is_authorized(self, user, "execute", "kernels")
            ):
                raise web.HTTPError(403)
            await super().get(*args, **kwargs)

        def open(self, *args: Any, **kwargs: Any) -> None:
            super().open(*args, **kwargs)
            self.set_nodelay(True)  # an ack is one small frame: send it now

        def kernel_keys(self) -> list[bytes]:
            """The session keys of the kernels this server runs (none for a gateway's)."""
            manager = self.kernel_manager
            kernels = (manager.get_kernel(kernel) for kernel in manager.list_kernel_ids())
            keys = (getattr(getattr(kernel, "session", None), "key", b"") for kernel in kernels)
            return [key for key in keys if isinstance(key, bytes) and key]

        async def on_message(self, message: str | bytes) -> None:
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            # Only a context is checked against the kernels; they are read on the server's thread.
            vouching = isinstance(parsed, dict) and parsed.get("kind") == "context"
            keys = self.kernel_keys() if vouching else []
            loop = asyncio.get_running_loop()
            reply = await loop.run_in_executor(worker, commits.handle, parsed, keys)
            if reply["kind"] == "refused":  # the page falls back to the kernel: say why
                self.log.info("labwidget: no direct commits for a widget: %s", reply["message"])
            if self.ws_connection is not None:
                await self.write_message(json.dumps(reply))

    return LabelSocket


def nodelay_connection(base: type[Any]) -> type[Any]:
    """A subclass of ``base`` whose ``connect()`` first turns TCP_NODELAY on for its websocket.

    ``base`` is the configured ``BaseKernelWebsocketConnection`` subclass: subclassing it, not
    replacing it, keeps a custom or gateway connection's behaviour.
    """

    def connect(self: Any) -> Any:
        self.websocket_handler.set_nodelay(True)
        # The default class's connect() is sync and returns a Future, the base class's is
        # async: returning the result unawaited serves both.
        return base.connect(self)

    return type(f"NoDelay{base.__name__}", (base,), {"connect": connect, "__module__": __name__})
