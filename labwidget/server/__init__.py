"""Jupyter server extension: fast kernel websockets, the front end served once, direct commits.

* Kernel websockets send each frame at once (TCP_NODELAY, ``_nodelay``). jupyter_server leaves
  Nagle's algorithm on; a widget's reply follows the kernel's ``status: busy`` frame, so it
  waited in the send buffer for the browser's delayed ACK (~40 ms): with Nagle off a
  keypress-to-reply round trip drops from ~45 ms to ~7 ms.
* ``<base_url>labwidget/static/<digest>/<file>`` serves the widgets' built JS and CSS under
  their content digest, cacheable for good (``_bundles``). The widgets' small loader imports
  them from there, so a page loads and evaluates the bundle and its 376 KB stylesheet once, not
  once per widget inside every comm message. A digest that is not this server's file is a 404,
  and the loader then asks the kernel for its own copy (another labwidget version, or no
  extension at all).
* ``<base_url>labwidget/labels`` is a websocket on which the page sends labels for the server to
  commit and ack itself, under a context its kernel signed (``_labels``, ``_direct``): a
  keypress gets its ack without the trip through the kernel.

Enabled on install by ``jupyter-config/jupyter_server_config.d/labwidget.json``. Importing this
package is light: jupyter_server and tornado load when the server loads the extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labwidget.server._bundles import BUNDLE_ROUTE, serve_bundles
from labwidget.server._labels import LABELS_ROUTE, serve_direct_labels
from labwidget.server._nodelay import CONNECTION_CLASS, LOADED, nodelay_connection, turn_nodelay_on

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

__all__ = [
    "BUNDLE_ROUTE",
    "CONNECTION_CLASS",
    "LABELS_ROUTE",
    "LOADED",
    "nodelay_connection",
    "serve_bundles",
    "serve_direct_labels",
    "turn_nodelay_on",
]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Name this package as the extension jupyter_server loads."""
    return [{"module": "labwidget.server"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    """Turn TCP_NODELAY on for kernel websockets, serve the bundles, take direct labels."""
    turn_nodelay_on(serverapp)
    serve_bundles(serverapp)
    serve_direct_labels(serverapp)
