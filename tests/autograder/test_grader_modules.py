"""Graded code that calls the grader's own answers is refused in every lesson, however it
reached them."""

import sys

import numpy as np
import pytest

from autograder import grader_modules, guard, lessons, oracles
from autograder.guard import forbid
from autograder.harness import values

X = np.random.default_rng(0).normal(size=(1, 5, 5, 2))
K = np.random.default_rng(1).normal(size=(3, 3, 2, 4))


@pytest.mark.parametrize(
    ("name", "grader_only"),
    [
        ("autograder.oracles", True),
        ("autograder.checks", True),
        ("autograder.lessons.02_convolution.mistakes", True),
        ("autograder.lessons.02_convolution.checks", True),
        ("autograder.lessons.06_backprop.ops", False),
        ("autograder.lessons", False),
        ("autograder.harness.ops.layers", False),
        ("autograder.guard", False),
        ("autograder.oracles_of_mine", False),
    ],
)
def test_the_grader_only_modules_are_the_checks_side(name, grader_only):
    assert grader_modules.grader_only(name) is grader_only


def test_a_call_of_the_grader_s_answers_is_a_hit_in_any_lesson():
    catalogue = lessons.module("02_convolution", "mistakes")
    with forbid(()) as hits:
        oracles.correlate(X, K)
    assert hits == ["the grader's own code (autograder.oracles.correlate)"]
    with forbid(()) as hits:
        catalogue.patches(X, (2, 2))
    assert hits == ["the grader's own code (autograder.lessons.02_convolution.mistakes.patches)"]


def test_the_kernel_s_own_code_and_the_student_s_are_no_hit():
    def mine(x, kernel):
        return np.einsum("nhwc,cf->nhwf", x[:, :3, :3], kernel[0, 0])

    with forbid(()) as hits:
        values.to_plain(mine(X, K))
    assert hits == []


def test_renaming_or_unlisting_the_module_hides_nothing(monkeypatch):
    """The guard knows the grader's code by its namespace, not by a name graded code can
    change; in the grading kernel the modules are fixed before student code runs."""
    monkeypatch.setattr(oracles, "__name__", "numpy")
    with forbid(()) as hits:
        oracles.correlate(X, K)
    assert hits
    try:
        guard.prepare([guard.ForbiddenOps("test", ("scipy.signal.correlate2d",), "")])
        monkeypatch.delitem(sys.modules, "autograder.oracles")
        with forbid(()) as hits:
            oracles.correlate(X, K)
        assert hits
    finally:
        guard._PREPARED = None
        guard._WATCHLISTS.clear()
        grader_modules._FIXED = None


def test_a_lesson_s_expected_outputs_are_the_grader_s_code_too():
    cases = lessons.module("02_convolution", "cases")
    with forbid(()) as hits:
        cases.expected_cross_correlation(X[0, :, :, 0], K[:, :, 0, 0])
    assert hits == [
        "the grader's own code (autograder.lessons.02_convolution.cases.expected_cross_correlation)"
    ]
