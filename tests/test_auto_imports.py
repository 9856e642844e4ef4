"""``import labwidget`` stays light: machine labeling loads torch, openai, Ray, math-verify and
transformers only where they are used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "openai", "ray", "math_verify")


def loaded_after(code: str) -> list[str]:
    found = f"sorted(m for m in {HEAVY!r} if m in sys.modules)"
    probe = f"import json, sys\n{code}\nprint(json.dumps({found}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_importing_labwidget_and_its_command_line_loads_none_of_them() -> None:
    assert loaded_after("import labwidget, labwidget.cli") == []
    assert loaded_after("import labwidget\nassert 'labwidget.auto' not in sys.modules") == []


def test_the_machine_labeling_names_load_only_what_they_use() -> None:
    code = "import labwidget as lw\nlw.autolabel, lw.generators.hf, lw.review_queue"
    assert loaded_after(code) == []
    served = "import labwidget as lw\nlw.generators.openai_compatible('http://127.0.0.1:9/v1', 'm')"
    assert loaded_after(served) == ["openai"]


def test_importing_labwidget_leaves_the_formats_and_tqdm_to_first_use() -> None:
    # What `import labwidget` loads is garbage the kernel collects in the user's next cell.
    probe = (
        "import sys\nimport labwidget as lw\n"
        "print(sorted(m for m in sys.modules if m.startswith(('labwidget.formats', 'tqdm'))))\n"
        "lw.export, lw.FormatError, lw.import_prm800k, lw.to_dataset\n"
        "print('labwidget.formats' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
