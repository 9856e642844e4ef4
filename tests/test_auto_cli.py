"""``labwidget autolabel``: labels from the command line, one-line reasons and exit 1 on failure."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import labwidget as lw
from labwidget import cli
from tests.auto_support import add_solutions, solution

_RNG = random.Random(1)
SOLUTIONS = [solution(_RNG, terms, 0.3) for terms in (4, 5, 3, 6)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = tmp_path / "labels.db"
    with lw.Store(path) as store:
        add_solutions(store, SOLUTIONS)
    return str(path)


def test_autolabel_from_the_command_line_and_again(
    store_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "autolabel", store_path, "--generator", "tests.auto_support:perfect_policy",
        "--judge", "tests.auto_support:perfect_judge", "--checker",
        "tests.auto_support:last_line_checker", "--method", "bisect", "-n", "4", "--no-progress",
    ]  # fmt: skip
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.startswith("autolabel: 4 items done, 0 skipped, 0 failed; 16 rollouts in ")
    with lw.Store(store_path) as store:
        assert {e["annotator"] for e in store.labels()} == {
            "auto:bisect",
            "auto:judge",
            "auto:consensus",
        }
        assert lw.review_queue(store) == []
    code, out, _ = run(capsys, *argv)
    assert (code, out.split(";")[0]) == (0, "autolabel: 0 items done, 4 skipped, 0 failed")


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--generator", "nowhere.module:make"], "cannot import nowhere.module (--generator): "),
        (["--generator", "tests.auto_support"], "--generator takes PKG.MODULE:NAME, not "),
        (["--generator", "tests.auto_support:nope"], "tests.auto_support has no 'nope'"),
        (
            ["--generator", "tests.auto_support:broken_factory"],
            "tests.auto_support:broken_factory (--generator) failed: OSError: no GPU here",
        ),
        (
            [
                "--generator",
                "tests.auto_support:perfect_policy",
                "--method",
                "bisect",
                "--estimate",
                "soft",
            ],
            "bisect labels are hard by nature",
        ),
    ],
)
def test_bad_options_fail_in_one_line(
    store_path: str, capsys: pytest.CaptureFixture[str], options: list[str], reason: str
) -> None:
    code, _, err = run(capsys, "autolabel", store_path, *options, "--no-progress")
    assert code == 1
    assert err.startswith(f"labwidget: {reason}")
    assert err.count("\n") == 1


def test_a_failing_generator_names_the_item_and_step_and_exits_1(
    store_path: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "autolabel", store_path, "--generator", "tests.auto_support:wrong_count_policy",
        "-n", "2", "--no-progress",
    )  # fmt: skip
    assert code == 1
    with lw.Store(store_path) as store:
        first = store.items()[0]["id"]
    assert err.startswith(
        f"labwidget: the generator returned 1 lists for 14 prompts (item {first} step 0"
    )
    assert err.count("\n") == 1
    assert out.startswith("autolabel: 0 items done, 0 skipped, 4 failed; 0 rollouts")
    missing = run(capsys, "autolabel", str(tmp_path / "none.db"), "--generator",
                  "tests.auto_support:perfect_policy")  # fmt: skip
    assert missing == (
        1,
        "",
        f"labwidget: there is no store at {tmp_path / 'none.db'}; check the path\n",
    )
