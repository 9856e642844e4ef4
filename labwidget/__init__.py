"""labwidget: label model outputs step by step in JupyterLab, into a store that feeds training."""

from labwidget.store import LabelError, Store, StoreError
from labwidget.widgets.steps import StepLabeler

__all__ = ["LabelError", "StepLabeler", "Store", "StoreError"]
__version__ = "0.1.0"
