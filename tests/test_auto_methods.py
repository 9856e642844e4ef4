"""Automatic step labels: Monte Carlo, bisect, judge and consensus, against seeded generators."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
from labwidget.auto import Prefix
from tests.auto_support import Judge, Policy, Solution, add_solutions, solution

# Four sums from a fixed seed: right, wrong from step 2, wrong from step 0, right.
_RNG = random.Random(1)
SOLUTIONS = [solution(_RNG, terms, 0.3) for terms in (4, 5, 3, 6)]


def test_the_sums_have_the_truth_the_tests_below_expect() -> None:
    assert [s.truth for s in SOLUTIONS] == [
        [1, 1, 1, 1],
        [1, 1, -1, -1, -1],
        [-1, -1, -1],
        [1, 1, 1, 1, 1, 1],
    ]
    assert SOLUTIONS[1].steps == [
        "4 + 2 = 6",
        "6 + 8 = 14",
        "14 + 1 = 17",
        "17 + 7 = 23",
        "The answer is 23",
    ]


def ratings(store: lw.Store, item: str, annotator: str) -> list[tuple[int, int, Any]]:
    """(step, value, successes) of an annotator's current ratings of an item, by step."""
    found = store.labels(item=item, annotator=annotator)
    return sorted((e["step"], e["value"], (e["meta"] or {}).get("successes")) for e in found)


def test_mc_with_a_policy_that_never_slips_labels_every_step_as_the_truth(store: lw.Store) -> None:
    ids = add_solutions(store, SOLUTIONS)
    summary = lw.autolabel(store, generator=Policy(), method="mc", n=4, progress=False)
    assert (summary.done, summary.skipped, summary.failed) == (4, 0, 0)
    # n rollouts for every step but the last, which the solution's own answer decides.
    assert summary.rollouts == 4 * (3 + 4 + 2 + 5)
    for item, truth in zip(ids, SOLUTIONS, strict=True):
        values = [value for _, value, _ in ratings(store, item, "auto:mc")]
        assert values == truth.truth
    event = next(e for e in store.labels(item=ids[1], annotator="auto:mc") if e["step"] == 1)
    assert event["source"] == "auto:mc"
    assert event["confidence"] == 1.0
    assert event["meta"] == {
        "n": 4,
        "successes": 4,
        "rate": 1.0,
        "estimate": "hard",
        "generator": "Policy(p=1.0, lucky=0.0, log=None)",
    }


def test_mc_with_a_seeded_policy_gives_these_exact_labels(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, SOLUTIONS)
    lw.autolabel(store, generator=Policy(0.8, 0.1), n=4, seed=3, progress=False)
    assert [ratings(store, item, "auto:mc") for item in ids] == [
        [(0, 1, 1), (1, 1, 3), (2, 1, 4), (3, 1, 1)],
        # step 2 is wrong, but 2 of 4 rollouts were lucky: Monte Carlo labels are noisy.
        [(0, 1, 3), (1, 1, 3), (2, 1, 2), (3, -1, 0), (4, -1, 0)],
        [(0, -1, 0), (1, -1, 0), (2, -1, 0)],
        [(0, 1, 2), (1, 1, 1), (2, 1, 4), (3, 1, 4), (4, 1, 4), (5, 1, 1)],
    ]
    # The same rollouts whatever shares a generator call: each prefix has its own seed.
    again = lw.Store(tmp_path / "again.db")
    add_solutions(again, SOLUTIONS)
    lw.autolabel(again, generator=Policy(0.8, 0.1), n=4, seed=3, batch=1, chunk=1, progress=False)
    assert [ratings(again, item, "auto:mc") for item in ids] == [
        ratings(store, item, "auto:mc") for item in ids
    ]


def test_soft_estimates_need_half_the_rollouts_and_keep_the_rate(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, SOLUTIONS[:2])
    lw.autolabel(store, generator=Policy(0.8, 0.1), n=4, seed=3, estimate="soft", progress=False)
    # The same rollouts as the hard test above: 1 of 4 is now -1, 2 of 4 stays +1.
    assert ratings(store, ids[0], "auto:mc") == [(0, -1, 1), (1, 1, 3), (2, 1, 4), (3, 1, 1)]
    first = next(e for e in store.labels(item=ids[0], annotator="auto:mc") if e["step"] == 0)
    assert (first["confidence"], first["meta"]["rate"], first["meta"]["estimate"]) == (
        0.75,
        0.25,
        "soft",
    )


def test_bisect_finds_the_first_error_with_fewer_rollouts(store: lw.Store) -> None:
    ids = add_solutions(store, SOLUTIONS)
    summary = lw.autolabel(store, generator=Policy(), method="bisect", n=4, progress=False)
    assert [ratings(store, item, "auto:bisect") for item in ids] == [
        [(0, 1, None), (1, 1, None), (2, 1, None), (3, 1, None)],  # right answer: no rollouts
        [(0, 1, None), (1, 1, 4), (2, -1, 0)],  # later steps unlabeled
        [(0, -1, 0)],
        [(0, 1, None), (1, 1, None), (2, 1, None), (3, 1, None), (4, 1, None), (5, 1, None)],
    ]
    # Probes: item 1 searches [0, 4] at 2 (fails), 1 (succeeds); item 2 [0, 2] at 1, then 0.
    assert summary.rollouts == 4 * 4
    notes = [(e["item"], e["step"]) for e in store.labels(kind="note", annotator="auto:bisect")]
    assert sorted(notes) == sorted([(ids[1], 2), (ids[2], 1), (ids[2], 0)])


def test_bisect_with_a_seeded_policy_gives_these_exact_labels(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, SOLUTIONS)
    lw.autolabel(store, generator=Policy(0.8, 0.1), method="bisect", n=4, seed=3, progress=False)
    assert [ratings(store, item, "auto:bisect") for item in ids][1:3] == [
        # Lucky rollouts past the true first error (2) move bisect's answer to step 3.
        [(0, 1, None), (1, 1, None), (2, 1, 2), (3, -1, 0)],
        [(0, -1, 0)],
    ]


def test_the_generator_gets_prefixes_with_their_text_parts_and_seed(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    add_solutions(store, [SOLUTIONS[2]])
    seen: list[Prefix] = []

    def generator(prompts: list[str], n: int) -> list[list[str]]:
        seen.extend(prompts)  # type: ignore[arg-type]
        return [["The answer is 0"] * n for _ in prompts]

    lw.autolabel(store, generator=generator, n=2, progress=False)
    assert [str(p) for p in seen] == [
        "sum 2 + 6 + 1\n2 + 6 = 6\n",
        "sum 2 + 6 + 1\n2 + 6 = 6\n6 + 1 = 7\n",
    ]
    assert [p.steps for p in seen] == [("2 + 6 = 6",), ("2 + 6 = 6", "6 + 1 = 7")]
    assert len({p.seed for p in seen}) == 2
    label = store.labels(annotator="auto:mc")[0]
    assert label["meta"]["generator"] == (
        "test_the_generator_gets_prefixes_with_their_text_parts_and_seed.<locals>.generator"
    )


def test_a_second_run_skips_everything_and_writes_nothing(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    add_solutions(store, SOLUTIONS)
    judge = Judge()
    lw.autolabel(store, generator=Policy(0.8, 0.1), method="bisect", judge=judge, progress=False)
    before = store.stats()["label_events"]
    calls = len(judge.calls)
    summary = lw.autolabel(
        store, generator=Policy(0.8, 0.1), method="bisect", judge=judge, progress=False
    )
    assert (summary.done, summary.skipped, summary.rollouts) == (0, 4, 0)
    assert store.stats()["label_events"] == before
    assert len(judge.calls) == calls
    # Another seed is another run.
    again = lw.autolabel(store, generator=Policy(0.8, 0.1), method="bisect", seed=1, progress=False)
    assert again.done == 4


def test_the_judge_and_consensus_label_agreements_and_queue_the_rest(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, SOLUTIONS)
    # A judge that errs on some steps: the router keeps the agreements, people get the rest.
    lw.autolabel(
        store, generator=Policy(), method="mc", n=4, judge=Judge(accuracy=0.7), progress=False
    )
    judged = ratings(store, ids[1], "auto:judge")
    assert [value for _, value, _ in judged] == [1, 1, -1, 1, 1]
    judge_event = next(e for e in store.labels(item=ids[1], annotator="auto:judge"))
    assert judge_event["meta"] == {"rationale": "step 1 looks right"}
    assert judge_event["source"] == "auto:judge"
    # Consensus up to the first error; the steps after it are neither labeled nor reviewed.
    assert ratings(store, ids[1], "auto:consensus") == [(0, 1, None), (1, 1, None), (2, -1, None)]
    assert ratings(store, ids[2], "auto:consensus") == []
    assert lw.review_queue(store) == [ids[2], ids[3]]
    assert [
        s and (s["mc_value"], s["judge_value"], s["review"])
        for s in lw.review_suggestions(store, ids[3])
    ] == [(1, 1, False), (1, 1, False), (1, 1, False), (1, 1, False), (1, -1, True), (1, 1, False)]
    assert lw.review_suggestions(store, ids[3])[4] == {
        "value": 1,
        "confidence": 1.0,
        "source": "auto:mc",
        "review": True,
        "human": False,
        "mc_value": 1,
        "mc_source": "auto:mc",
        "mc_rate": 1.0,
        "mc_n": 4,
        "mc_successes": 4,
        "judge_value": -1,
        "rationale": "step 5 looks wrong",
    }
    assert lw.review_suggestions(store, ids[3])[0]["source"] == "auto:consensus"
    # A person settles a disagreement: the item leaves the queue, all labels stay apart.
    store.record_label(item=ids[3], step=4, value=1)
    assert lw.review_queue(store) == [ids[2]]
    sources = {e["source"] for e in store.labels(item=ids[3])}
    assert sources == {"human", "auto:mc", "auto:judge", "auto:consensus"}
    assert lw.review_suggestions(store, ids[3])[4]["human"] is True


def test_a_person_settles_disputes_one_after_another(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    (item,) = add_solutions(store, [SOLUTIONS[3]])  # six right steps

    def doubts_steps_1_and_3(prompt: str, steps: list[str]) -> list[dict[str, Any]]:
        return [{"value": -1 if k in (1, 3) else 1, "rationale": ""} for k in range(len(steps))]

    options: dict[str, Any] = {"generator": Policy(), "judge": doubts_steps_1_and_3, "n": 2}
    lw.autolabel(store, progress=False, **options)

    def review() -> list[int]:
        return [k for k, s in enumerate(lw.review_suggestions(store, item)) if s and s["review"]]

    # The judge's first -1 stops the router: step 3's dispute waits behind step 1's.
    assert (review(), lw.review_queue(store)) == ([1], [item])
    store.record_label(item=item, step=1, value=1)
    assert (review(), lw.review_queue(store)) == ([3], [item])
    store.record_label(item=item, step=3, value=1)
    assert (review(), lw.review_queue(store)) == ([], [])
    # Run again, the machines add what they now agree on after the settled steps.
    assert [s for s, _, _ in ratings(store, item, "auto:consensus")] == [0]
    again = lw.autolabel(store, progress=False, **options)
    assert (again.done, again.rollouts) == (1, 0)
    assert [s for s, _, _ in ratings(store, item, "auto:consensus")] == [0, 2, 4, 5]


def test_rates_in_the_uncertain_band_go_to_review_even_without_a_judge(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    ids = add_solutions(store, [SOLUTIONS[1]])

    def one_lucky(prompts: list[str], n: int) -> list[list[str]]:
        # One rollout in n reaches the answer from every prefix.
        return [["The answer is 22"] + ["The answer is 0"] * (n - 1) for _ in prompts]

    lw.autolabel(store, generator=one_lucky, n=8, progress=False)
    suggestions = lw.review_suggestions(store, ids[0])
    assert [s and (s["value"], s["mc_rate"], s["review"]) for s in suggestions] == [
        (1, 0.125, True),
        (1, 0.125, True),
        (1, 0.125, True),
        (1, 0.125, True),
        (-1, 0.0, False),
    ]
    assert lw.review_queue(store) == ids
    assert lw.review_queue(store, band=(0.0, 0.1)) == []
    assert lw.review_queue(store, dataset="elsewhere") == []


def test_settings_that_cannot_work_are_refused(tmp_path: Path) -> None:
    store = lw.Store(tmp_path / "labels.db")
    with pytest.raises(ValueError, match="method must be one of mc, bisect"):
        lw.autolabel(store, generator=Policy(), method="omega")
    with pytest.raises(ValueError, match="bisect labels are hard"):
        lw.autolabel(store, generator=Policy(), method="bisect", estimate="soft")
    with pytest.raises(ValueError, match="n \\(rollouts per prefix\\) must be a positive"):
        lw.autolabel(store, generator=Policy(), n=0)
    with pytest.raises(ValueError, match="band must be"):
        lw.autolabel(store, generator=Policy(), band=(0.5, 0.2))
    with pytest.raises(ValueError, match="pass items or claim=True"):
        lw.autolabel(store, ["x"], generator=Policy(), claim=True)
    with pytest.raises(TypeError, match="items is a list of item ids"):
        lw.autolabel(store, "nope", generator=Policy())
    with pytest.raises(ValueError, match="there is no item 'nope'"):
        lw.autolabel(store, ["nope"], generator=Policy(), progress=False)


def test_a_summary_line_ends_a_run_with_a_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = lw.Store(tmp_path / "labels.db")
    add_solutions(store, [SOLUTIONS[0], Solution("sum 1", [], 1, [])])
    lw.autolabel(store, generator=Policy(), n=2, progress=True)
    err = capsys.readouterr().err
    assert "autolabel mc: 100%" in err
    assert "rollouts/s" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("autolabel: 1 items done, 1 skipped, 0 failed; 6 rollouts in ")
