"""Importers and exporters: PRM800K JSONL in and out, and TRL's dataset formats out.

``import_prm800k(store, "phase1_train.jsonl")`` loads labelled solutions into a store;
``export(store, "prm.jsonl", format="trl-stepwise")`` writes rows a TRL trainer reads, as JSONL
or Parquet, and ``to_dataset`` gives them as a ``datasets.Dataset``.
"""

from labwidget.formats._errors import FormatError
from labwidget.formats._io import export, to_dataset
from labwidget.formats.prm800k import export_prm800k, import_prm800k
from labwidget.formats.trl import preference, stepwise, unpaired

__all__ = [
    "FormatError",
    "export",
    "export_prm800k",
    "import_prm800k",
    "preference",
    "stepwise",
    "to_dataset",
    "unpaired",
]
