"""Importing labwidget in a kernel opens one hidden model that loads the steps bundle early."""

from __future__ import annotations

import pytest

from labwidget._bundle import STATIC, digest
from labwidget.widgets import _preload
from tests.messages import deliver, replies


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> list[_preload.Preload]:
    opened: list[_preload.Preload] = []
    monkeypatch.setattr(_preload, "_preloaded", opened)
    monkeypatch.delenv("ANYWIDGET_HMR", raising=False)
    return opened


def test_outside_a_kernel_nothing_is_opened(fresh: list[_preload.Preload]) -> None:
    assert not _preload.in_kernel()
    _preload.preload()
    assert fresh == []


def test_in_a_kernel_one_hidden_model_loads_and_warms_the_steps_bundle(
    fresh: list[_preload.Preload], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_preload, "in_kernel", lambda: True)
    _preload.preload()
    _preload.preload()  # a second import, e.g. importlib.reload, opens no second one
    [model] = fresh
    state = model.get_state()
    assert state["_esm"] == (STATIC / "loader.js").read_text(encoding="utf-8")
    digests = {"js": digest("steps.js"), "css": digest("steps.css")}
    assert state["_bundle"] == {"name": "steps", **digests, "warm": True}
    # Where the server cannot serve the bundle, the loader asks this model for it.
    deliver(model, {"kind": "bundle", "id": "p1"})
    [reply] = replies(model)
    assert (reply["kind"], reply["id"]) == ("bundle", "p1")
    assert reply["esm"] == (STATIC / "steps.js").read_text(encoding="utf-8")


def test_hot_reloading_opens_nothing(
    fresh: list[_preload.Preload], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_preload, "in_kernel", lambda: True)
    monkeypatch.setenv("ANYWIDGET_HMR", "1")
    _preload.preload()
    assert fresh == []
