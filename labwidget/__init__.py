"""labwidget: label model outputs step by step in JupyterLab, into a store that feeds training."""

from typing import Any

from labwidget._follow import follow
from labwidget.agreement import adjudicate, agreement, disagreements
from labwidget.ask import Background, ask, background
from labwidget.capture import Capture, capture, label
from labwidget.report import write_report
from labwidget.store import LabelError, Store, StoreError
from labwidget.widgets.dashboard import Dashboard
from labwidget.widgets.pair import PairLabeler, compare
from labwidget.widgets.steps import StepLabeler

__all__ = [
    "AutolabelError",
    "Background",
    "Capture",
    "Dashboard",
    "FormatError",
    "LabelError",
    "PairLabeler",
    "PreferenceCollator",
    "PreferenceDataset",
    "StepCollator",
    "StepDataset",
    "StepLabeler",
    "StepScorer",
    "Store",
    "StoreError",
    "adjudicate",
    "agreement",
    "ask",
    "autolabel",
    "background",
    "best_of_n",
    "capture",
    "compare",
    "disagreements",
    "evaluate_prm",
    "export",
    "follow",
    "generators",
    "import_prm800k",
    "label",
    "review_queue",
    "review_suggestions",
    "suggest",
    "suggestions",
    "to_dataset",
    "train_prm",
    "write_report",
]
__version__ = "0.1.0"

# torch-backed names load torch on first use: the store and the widgets never need it.
_TORCH_NAMES = {"PreferenceCollator", "PreferenceDataset", "StepCollator", "StepDataset"}
# Machine labeling loads on first use too (its generators reach for torch, openai and Ray).
_AUTO_NAMES = {"AutolabelError", "autolabel", "generators", "review_queue", "review_suggestions"}
# Your PRM's suggestions load with the answer checkers of machine labeling (and torch, to run it).
_ACTIVE_NAMES = {"suggest", "suggestions"}
# PRM training (torch, transformers) and evaluation (numpy) load on first use too.
# Importers and exporters load on first use too (tqdm, the format modules).
_FORMAT_NAMES = {"FormatError", "export", "import_prm800k", "to_dataset"}
_PRM_NAMES = {
    "StepScorer": "labwidget.scorer",
    "best_of_n": "labwidget.evaluate",
    "evaluate_prm": "labwidget.evaluate",
    "train_prm": "labwidget.train",
}


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        from labwidget import data

        return getattr(data, name)
    if name in _AUTO_NAMES:
        from labwidget import auto

        return getattr(auto, name)
    if name in _FORMAT_NAMES:
        from labwidget import formats

        return getattr(formats, name)
    if name in _ACTIVE_NAMES:
        from labwidget import active

        return getattr(active, name)
    if name in _PRM_NAMES:
        import importlib

        return getattr(importlib.import_module(_PRM_NAMES[name]), name)
    raise AttributeError(f"module 'labwidget' has no attribute {name!r}")
