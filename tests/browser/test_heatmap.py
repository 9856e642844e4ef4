"""Token scores from a torch tensor as a heatmap in a real JupyterLab, toggled by a key."""

from __future__ import annotations

from typing import Any

from tests.browser.jupyterlab_driver import open_notebook, run_all_cells, write_notebook
from tests.browser.test_quickstart import SCREENSHOTS

NOTEBOOK = """import torch
import labwidget as lw

torch.manual_seed(0)
steps = ["There are 4 boxes with 12 eggs each.", "4 × 12 = 46 eggs in the boxes.",
         "46 + 5 = 51 eggs in total."]
tokens = [t for s in steps for t in s.replace(" ", " ·").split("·")]
counts = [len(s.replace(" ", " ·").split("·")) for s in steps]
logits = torch.randn(len(tokens), 50) * 3
logprobs = torch.log_softmax(logits, -1).max(-1).values
lw.StepLabeler(prompt="How many eggs?", steps=steps, store=lw.Store("heat.db"),
               tokens=tokens, token_scores=logprobs, step_token_counts=counts)"""


def test_token_scores_show_as_a_heatmap_that_t_toggles(page: Any, jupyter_server: Any) -> None:
    write_notebook(jupyter_server.root / "heat.ipynb", [NOTEBOOK])
    open_notebook(page, jupyter_server, "heat.ipynb")
    run_all_cells(page)
    labeler = page.get_by_test_id("step-labeler")
    labeler.wait_for(state="visible")
    first = page.locator('[data-testid="heat-1"] .lw-tok').first
    first.wait_for(state="visible")
    assert page.locator('[data-testid="heat-1"] .lw-tok').count() == 9
    assert "logprob" in (first.get_attribute("title") or "")
    assert page.locator('[data-testid="step-1"] .lw-step__text').is_hidden()
    colours = page.eval_on_selector_all(
        ".lw-tok", "spans => spans.map(s => getComputedStyle(s).backgroundColor)"
    )
    assert len(set(colours)) > 3, colours

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    labeler.screenshot(path=str(SCREENSHOTS / "heatmap.png"))
    page.get_by_test_id("prompt").click()
    page.keyboard.press("t")
    page.locator('[data-testid="step-1"] .lw-step__text').wait_for(state="visible")
    assert first.is_hidden()
    assert page.page_errors == []
