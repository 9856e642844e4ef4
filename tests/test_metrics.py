"""ProcessBench's earliest-error F1, on literal cases."""

from __future__ import annotations

import pytest

from labwidget.metrics import NO_ERROR, earliest_error_f1, first_error


def test_first_error_reads_a_row_of_step_ratings() -> None:
    assert first_error([1, 1, 1]) == NO_ERROR
    assert first_error([-1, 1, -1]) == 0
    assert first_error([1, 0, -1, None]) == 2
    assert first_error([1, None, 1]) is None  # an unlabeled step might hide the error
    assert first_error([None, None]) is None
    assert first_error([]) == NO_ERROR


def test_a_labeler_that_is_always_right_scores_1() -> None:
    assert earliest_error_f1([NO_ERROR, 0, 3], [NO_ERROR, 0, 3]) == {
        "erroneous": 1.0,
        "correct": 1.0,
        "f1": 1.0,
        "n_erroneous": 2,
        "n_correct": 1,
    }


def test_only_correct_solutions_leave_the_f1_undefined() -> None:
    assert earliest_error_f1([NO_ERROR, 1], [NO_ERROR, NO_ERROR]) == {
        "erroneous": None,
        "correct": 0.5,
        "f1": None,
        "n_erroneous": 0,
        "n_correct": 2,
    }


def test_an_error_at_the_first_step_must_be_named_exactly() -> None:
    # Truth: wrong from step 0 twice, and one correct solution. The labeler finds one of
    # the two first errors, misses the other by a step, and calls the correct one wrong.
    score = earliest_error_f1([0, 1, 2], [0, 0, NO_ERROR])
    assert score == {"erroneous": 0.5, "correct": 0.0, "f1": 0.0, "n_erroneous": 2, "n_correct": 1}


def test_calling_everything_correct_scores_0() -> None:
    score = earliest_error_f1([NO_ERROR] * 4, [0, 2, NO_ERROR, NO_ERROR])
    assert (score["erroneous"], score["correct"], score["f1"]) == (0.0, 1.0, 0.0)


def test_no_labels_is_a_miss_and_no_solutions_score_nothing() -> None:
    unlabeled = first_error([None, None, None])
    assert earliest_error_f1([unlabeled, NO_ERROR], [1, NO_ERROR]) == {
        "erroneous": 0.0,
        "correct": 1.0,
        "f1": 0.0,
        "n_erroneous": 1,
        "n_correct": 1,
    }
    assert earliest_error_f1([], []) == {
        "erroneous": None,
        "correct": None,
        "f1": None,
        "n_erroneous": 0,
        "n_correct": 0,
    }


def test_mismatched_or_impossible_truth_is_refused() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 solutions"):
        earliest_error_f1([0, 1], [0])
    with pytest.raises(ValueError, match="a true first error is a step index or -1, not -2"):
        earliest_error_f1([0], [-2])
