"""Kernel websockets that send each frame at once: TCP_NODELAY on, Nagle's algorithm off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

CONNECTION_CLASS = "kernel_websocket_connection_class"
LOADED = "labwidget: kernel websockets send without delay (TCP_NODELAY)"


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
