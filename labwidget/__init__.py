"""labwidget: label model outputs step by step in JupyterLab, into a store that feeds training."""

from labwidget.ask import Background, ask, background
from labwidget.capture import Capture, capture, label
from labwidget.formats import FormatError, export, import_prm800k, to_dataset
from labwidget.store import LabelError, Store, StoreError
from labwidget.widgets.pair import PairLabeler, compare
from labwidget.widgets.steps import StepLabeler

__all__ = [
    "Background",
    "Capture",
    "FormatError",
    "LabelError",
    "PairLabeler",
    "StepLabeler",
    "Store",
    "StoreError",
    "ask",
    "background",
    "capture",
    "compare",
    "export",
    "import_prm800k",
    "label",
    "to_dataset",
]
__version__ = "0.1.0"
