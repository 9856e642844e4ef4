"""The built front end (``labwidget/static``): its files and the content digests they go by.

The widgets name their bundle by digest and send it themselves to a page that cannot fetch it;
the server extension serves it under that digest (``labwidget.server``); the report inlines its
own. All three read the files here.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
BUNDLE_FILES = ("steps.js", "steps.css", "pair.js", "pair.css", "dashboard.js", "dashboard.css")


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
