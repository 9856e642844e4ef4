"""Token scores from a torch tensor as a heatmap in a real JupyterLab, toggled by a key."""

from __future__ import annotations

from typing import Any

import torch

import labwidget as lw
from labwidget.render import to_item
from tests.browser.jupyterlab_driver import open_notebook, run_all_cells, write_notebook
from tests.browser.test_quickstart import SCREENSHOTS
from tests.test_render import TOK, TinyLM

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


def test_a_captured_item_reopened_later_shows_its_heatmap_and_what_it_is(
    page: Any, jupyter_server: Any
) -> None:
    # Captured during a training run, in another process than the notebook that reopens it.
    model = TinyLM()
    with lw.Store(jupyter_server.root / "captured.db") as store:
        with lw.capture(model, tokenizer=TOK, store=store):
            out = model.generate(
                torch.tensor([TOK.encode("2+2=")]),
                max_new_tokens=12,
                output_scores=True,
                return_dict_in_generate=True,
            )
        [item] = store.items()
    scores = to_item(out, tokenizer=TOK).token_logprobs
    assert scores is not None
    write_notebook(
        jupyter_server.root / "reopen.ipynb",
        [
            "import labwidget as lw\n"
            f"lw.StepLabeler(store=lw.Store('captured.db'), queue=[{item['id']!r}])"
        ],
    )
    open_notebook(page, jupyter_server, "reopen.ipynb")
    run_all_cells(page)
    caption = page.get_by_test_id("heatmap-caption")
    caption.wait_for(state="visible")
    assert caption.inner_text().startswith(
        "log-prob of each token under the sampling distribution (generate's scores: after "
        "temperature, top-k, top-p)"
    )
    spans = page.locator(".lw-tok")
    spans.first.wait_for(state="visible")
    titles = page.eval_on_selector_all(
        "[data-testid=step-labeler] .lw-tok", "spans => spans.map(s => [s.dataset.i, s.title])"
    )
    # The page shows the very float32 values the training run computed.
    expected = {str(i): f"logprob {v:.2f}".replace("-", "\u2212") for i, v in enumerate(scores)}
    assert titles
    for index, title in titles:
        assert title.startswith(expected[index]), (index, title, expected[index])
    page.get_by_test_id("prompt").click()
    page.keyboard.press("t")
    caption.wait_for(state="hidden")
    assert page.page_errors == []
