"""Importers and exporters: PRM800K JSONL in and out, and TRL's dataset formats out.

``import_prm800k(store, "phase1_train.jsonl")`` loads labelled solutions into a store;
``export(store, "prm.jsonl", format="trl-stepwise")`` writes rows a TRL trainer reads, as JSONL
or Parquet, and ``to_dataset`` gives them as a ``datasets.Dataset``. The step-tag formats other
PRM code reads (``math-shepherd``, ``qwen-prm``, ``openr``) go out the same way and come back in
with ``import_shepherd``, ``import_qwen`` and ``import_openr``.
"""

from labwidget.formats._errors import FormatError
from labwidget.formats._io import IMPORTS, export, to_dataset
from labwidget.formats.openr import export_openr, import_openr
from labwidget.formats.prm800k import export_prm800k, import_prm800k
from labwidget.formats.qwen import export_qwen, import_qwen
from labwidget.formats.shepherd import export_shepherd, import_shepherd
from labwidget.formats.trl import preference, stepwise, unpaired

__all__ = [
    "IMPORTS",
    "FormatError",
    "export",
    "export_openr",
    "export_prm800k",
    "export_qwen",
    "export_shepherd",
    "import_openr",
    "import_prm800k",
    "import_qwen",
    "import_shepherd",
    "preference",
    "stepwise",
    "to_dataset",
    "unpaired",
]
