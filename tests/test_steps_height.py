"""StepLabeler's max_height: the steps scroll inside the widget unless told not to."""

from __future__ import annotations

from pathlib import Path

import pytest
import traitlets

import labwidget as lw


@pytest.fixture
def sqlite_store(tmp_path: Path) -> lw.Store:
    return lw.Store(tmp_path / "labels.db")


def test_the_steps_are_bounded_at_70vh_by_default(sqlite_store: lw.Store) -> None:
    labeler = lw.StepLabeler(prompt="Q", steps=["a", "b"], store=sqlite_store)
    assert labeler.max_height == "70vh"
    assert labeler.get_state()["max_height"] == "70vh"


def test_max_height_takes_a_css_length_or_none(sqlite_store: lw.Store) -> None:
    assert lw.StepLabeler(steps=["a"], store=sqlite_store, max_height="500px").max_height == "500px"
    assert lw.StepLabeler(steps=["a"], store=sqlite_store, max_height=None).max_height is None


def test_max_height_is_a_string(sqlite_store: lw.Store) -> None:
    with pytest.raises(traitlets.TraitError):
        lw.StepLabeler(steps=["a"], store=sqlite_store, max_height=70)  # type: ignore[arg-type]
