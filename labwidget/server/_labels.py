"""``<base_url>labwidget/labels``: the websocket on which pages send labels for direct commits."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

LABELS_ROUTE = "labwidget/labels"


def serve_direct_labels(serverapp: ServerApp) -> None:
    """Route ``<base_url>labwidget/labels`` to the direct-commit websocket."""
    from jupyter_server.utils import url_path_join

    route = url_path_join(serverapp.base_url, LABELS_ROUTE)
    serverapp.web_app.add_handlers(".*$", [(route, label_socket_handler())])  # type: ignore[no-untyped-call]


@cache
def label_socket_handler() -> type[Any]:
    """The direct-commit websocket handler, made on first use so that importing stays light."""
    from jupyter_core.utils import ensure_async
    from jupyter_server.auth.decorator import ws_authenticated
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.base.websocket import WebSocketMixin
    from tornado import web
    from tornado.websocket import WebSocketHandler

    from labwidget.server._direct import DirectCommits

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
