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
