"""Agreement between labelers: alpha, kappa and earliest-error F1 against literal values."""

from __future__ import annotations

import numpy as np
import pytest

import labwidget as lw
from labwidget import cli
from labwidget._reliability import value_counts

# Three people rate three items (two datasets); "-" is no rating. By hand:
#   A  x: + - .   y: + + -   z: + - .     reference: + - -  (first error 1)
#   B  x: + +     y: + 0                   reference: + ?  (a tie; adjudicated +: no error)
#   C  x: - .     y: + -     z: - .       reference: - -  (first error 0)
TABLE = {
    ("A", "d1"): {"x": [1, -1, None], "y": [1, 1, -1], "z": [1, -1, None]},
    ("B", "d1"): {"x": [1, 1], "y": [1, 0]},
    ("C", "d2"): {"x": [-1, None], "y": [1, -1], "z": [-1, None]},
}
MACHINE = {"A": [1, 1, 1], "B": [1, 1]}


@pytest.fixture
def table(store: lw.Store) -> dict[str, str]:
    ids = {}
    for (name, dataset), ratings in TABLE.items():
        steps = [f"{name} step {k}" for k in range(len(ratings["x"]))]
        ids[name] = item = store.add_item(f"item {name}", steps, dataset=dataset)
        # Earlier opinions that newer events replace: only the newest rating counts.
        store.record_label(item=item, step=1, value=0, annotator="y")
        store.record_label(item=item, step=len(steps) - 1, value=1, annotator="x")
        store.undo(item=item, step=len(steps) - 1, annotator="x")
        for who, values in ratings.items():
            for step, value in enumerate(values):
                if value is not None:
                    store.record_label(item=item, step=step, value=value, annotator=who)
    for name, values in MACHINE.items():
        for step, value in enumerate(values):
            store.record_label(
                item=ids[name], step=step, value=value, annotator="auto:mc", source="auto:mc"
            )
    return ids


def test_the_krippendorff_documented_example_through_our_value_counts() -> None:
    import krippendorff

    nan = np.nan
    data = np.array(
        [
            [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
            [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
            [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
        ]
    )
    coder, unit = np.nonzero(~np.isnan(data))
    counts = value_counts(unit, data[coder, unit].astype(int), data.shape[1], (1, 2, 3, 4))
    nominal = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    interval = krippendorff.alpha(value_counts=counts, level_of_measurement="interval")
    assert (round(nominal, 6), round(interval, 6)) == (0.691358, 0.810845)


def test_alpha_overall_and_per_dataset(store: lw.Store, table: dict[str, str]) -> None:
    found = lw.agreement(store)
    # Steps two or more people rated: A0 A1 B0 B1 C0, with 13 labels from x, y and z.
    assert found.alpha == {
        "alpha": pytest.approx(0.19145299145299144),
        "items": 3,
        "steps": 5,
        "labels": 13,
        "annotators": 3,
    }
    assert found.datasets == {
        "d1": {
            "alpha": pytest.approx(0.22916666666666663),
            "items": 2,
            "steps": 4,
            "labels": 10,
            "annotators": 3,
        },
        "d2": {"alpha": 0.0, "items": 1, "steps": 1, "labels": 3, "annotators": 3},
    }
    assert lw.agreement(store, dataset="d2").alpha["steps"] == 1


def test_kappa_for_each_pair(store: lw.Store, table: dict[str, str]) -> None:
    kappas = {(k["a"], k["b"]): k for k in lw.agreement(store).kappa}
    # x and y: + - + + - against + + + 0 +: observed 0.4, chance 0.48, so -0.08 / 0.52.
    assert kappas[("x", "y")] == {
        "a": "x",
        "b": "y",
        "kappa": pytest.approx(-0.08 / 0.52),
        "items": 3,
        "steps": 5,
    }
    assert kappas[("x", "z")]["kappa"] == 1.0
    assert (kappas[("y", "z")]["kappa"], kappas[("y", "z")]["steps"]) == (0.0, 3)


def test_machines_count_as_coders_only_when_asked(store: lw.Store, table: dict[str, str]) -> None:
    assert lw.agreement(store).alpha["annotators"] == 3
    with_machines = lw.agreement(store, sources=["human", "auto:"])
    assert with_machines.alpha["annotators"] == 4
    assert ("auto:mc", "x") in {(k["a"], k["b"]) for k in with_machines.kappa}


def test_earliest_error_f1_against_majority_and_adjudication(
    store: lw.Store, table: dict[str, str]
) -> None:
    before = {f["annotator"]: f for f in lw.agreement(store).f1}
    # Without a verdict on B's tie only A and C (both with an error) have a reference.
    assert lw.agreement(store).reference == {"items": 2, "adjudicated": 0, "majority": 6}
    x = before["x"]
    assert (x["erroneous"], x["correct"], x["f1"]) == (1.0, None, None)

    store.adjudicate(item=table["B"], step=1, value=1, annotator="lead")
    found = lw.agreement(store)
    assert found.reference == {"items": 3, "adjudicated": 1, "majority": 6}
    f1 = {f["annotator"]: f for f in found.f1}
    assert f1["x"] == {
        "annotator": "x",
        "source": "human",
        "erroneous": 1.0,
        "correct": 1.0,
        "f1": 1.0,
        "n_erroneous": 2,
        "n_correct": 1,
        "items": 3,
        "steps": 5,
    }
    # y finds A's error a step late and C's a step late: right only on B.
    assert (f1["y"]["erroneous"], f1["y"]["correct"], f1["y"]["f1"]) == (0.0, 1.0, 0.0)
    assert (f1["z"]["f1"], f1["z"]["n_erroneous"], f1["z"]["n_correct"]) == (None, 2, 0)
    # The machine calls A correct (wrong) and B correct (right).
    assert (f1["auto:mc"]["source"], f1["auto:mc"]["f1"]) == ("auto:mc", 0.0)
    assert (f1["auto:mc"]["n_erroneous"], f1["auto:mc"]["n_correct"]) == (1, 1)


def test_disagreements_say_who_said_what_until_adjudicated(
    store: lw.Store, table: dict[str, str]
) -> None:
    found = lw.disagreements(store)
    assert [(d["item"], d["step"]) for d in found] == sorted(
        [(table["A"], 1), (table["B"], 1), (table["C"], 0)]
    )
    at_b = next(d for d in found if d["item"] == table["B"])
    assert at_b["labels"] == {"x": 1, "y": 0}
    assert at_b["sources"] == {"x": "human", "y": "human"}
    assert at_b["adjudication"] is None
    # A's step 1 splits people only; with the machines, A's step 2 and B's step 1 too.
    with_auto = {(d["item"], d["step"]) for d in lw.disagreements(store, auto=True)}
    assert (table["A"], 2) in with_auto

    assert lw.adjudicate(store, at_b, 1, annotator="lead", event_id="adj-1")
    assert not lw.adjudicate(store, at_b, 1, annotator="lead", event_id="adj-1")
    left = [(d["item"], d["step"]) for d in lw.disagreements(store)]
    assert (table["B"], 1) not in left
    settled = lw.disagreements(store, pending=False, items=[table["B"]])
    assert [(d["step"], d["adjudication"]) for d in settled] == [(1, 1)]
    [event] = store.events(kind="adjudication")
    assert (event["annotator"], event["value"], event["meta"]) == (
        "lead",
        1,
        {"labels": {"x": 1, "y": 0}},
    )


def test_an_adjudication_must_be_a_rating(store: lw.Store, table: dict[str, str]) -> None:
    with pytest.raises(lw.LabelError, match="settles a step as -1, 0 or \\+1"):
        store.adjudicate(item=table["A"], step=0, value=2)


def test_an_empty_store_has_no_figures(store: lw.Store) -> None:
    found = lw.agreement(store)
    assert found.alpha == {"alpha": None, "items": 0, "steps": 0, "labels": 0, "annotators": 0}
    assert (found.kappa, found.f1, found.suggestions) == ([], [], [])


def test_the_command_prints_the_figures(
    store: lw.Store, table: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["agreement", str(store.url.render_as_string(hide_password=False))]) == 0
    out = capsys.readouterr().out
    assert "all                        0.191        3 items        5 steps" in out
    assert "x ~ y: -0.154  (3 items, 5 steps)" in out
    # B's tie is not settled: the machine is scored on A only.
    assert "auto:mc (auto:mc): n/a  erroneous 0.000 of 1, correct n/a of 0" in out


def test_one_value_on_every_step_gives_no_alpha_and_no_warning(store: lw.Store) -> None:
    import warnings

    item = store.add_item("q", ["a", "b"])
    for who in ("ana", "bo"):
        store.record_label(item=item, step=0, value=1, annotator=who)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # krippendorff's 0/0 warned on every dashboard refresh
        found = lw.agreement(store)
    assert (found.alpha["alpha"], found.alpha["steps"]) == (None, 1)
