"""The server extension: kernel websockets turn TCP_NODELAY on, and installing enables it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.websocket import WebSocketHandler

from labwidget import server


class FakeHandler(WebSocketHandler):
    """A websocket handler with no request behind it that records ``set_nodelay`` calls."""

    def __init__(self) -> None:
        self.nodelay: list[bool] = []

    def set_nodelay(self, value: bool) -> None:
        self.nodelay.append(value)


class RecordingConnection(BaseKernelWebsocketConnection):
    """A custom connection class, as a deployment might configure: records what connect() saw."""

    async def connect(self) -> Any:
        return ("connected", list(self.websocket_handler.nodelay))


def finish(coroutine: Any) -> Any:
    """The value of a coroutine that never suspends, without an event loop.

    Earlier tests in the same process may leave an event loop marked running on this thread,
    which makes ``asyncio.run`` refuse.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited for something")


def server_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any) -> ServerApp:
    """A real ServerApp, initialised as ``jupyter server`` would but without listening."""
    for name in ("config", "data", "runtime"):
        monkeypatch.setenv(f"JUPYTER_{name.upper()}_DIR", str(tmp_path / name))
    app = ServerApp(
        root_dir=str(tmp_path),
        jpserver_extensions={"labwidget.server": True},
        reraise_server_extension_failures=True,
        **config,
    )
    app.initialize(argv=[], find_extensions=False, new_httpserver=False)
    return app


def test_default_connection_class_gets_nodelay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = server_app(tmp_path, monkeypatch)

    connection_class = app.web_app.settings[server.CONNECTION_CLASS]
    assert connection_class is not ZMQChannelsWebsocketConnection
    assert issubclass(connection_class, ZMQChannelsWebsocketConnection)


def test_connect_turns_nodelay_on_then_delegates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = server_app(tmp_path, monkeypatch, kernel_websocket_connection_class=RecordingConnection)
    connection_class = app.web_app.settings[server.CONNECTION_CLASS]
    assert issubclass(connection_class, RecordingConnection)

    handler = FakeHandler()
    connection = connection_class(websocket_handler=handler)

    assert finish(connection.connect()) == ("connected", [True])
    assert handler.nodelay == [True]


def test_missing_setting_leaves_the_server_alone(caplog: pytest.LogCaptureFixture) -> None:
    serverapp = SimpleNamespace(web_app=SimpleNamespace(settings={}), log=logging.getLogger("t"))

    with caplog.at_level(logging.INFO):
        server.turn_nodelay_on(serverapp)  # type: ignore[arg-type]

    assert serverapp.web_app.settings == {}
    assert "Nagle left on" in caplog.text


def test_installing_enables_the_extension(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path)  # no user config can switch it off
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.split() for line in (listing.stdout + listing.stderr).splitlines()]
    assert ["labwidget.server", "enabled"] in _plain(lines)
    assert ["labwidget.server", "OK"] in _plain(lines)


def _plain(lines: list[list[str]]) -> list[list[str]]:
    """Drop the ANSI colours ``jupyter server extension list`` puts around enabled and OK."""
    return [
        [word.replace("\x1b[32m", "").replace("\x1b[0m", "") for word in line] for line in lines
    ]
