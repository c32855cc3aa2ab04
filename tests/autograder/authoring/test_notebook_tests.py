from pathlib import Path

import pytest

from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.checks import convolution as checks
from autograder.feedback import CheckFailed

NOTEBOOK = (
    Path(__file__).resolve().parents[3] / "notebooks" / "02_convolution" / "convolution.ipynb"
)


def test_test_cells_are_read_in_order_with_their_hidden_tests():
    cells = read_test_cells(NOTEBOOK)
    assert list(cells) == [
        "test_hand_example",
        "test_cross_correlate2d",
        "test_im2col",
        "test_conv2d_contract",
        "test_conv2d_matches_keras",
        "test_conv2d_trains",
    ]
    assert "hidden=True" in cells["test_cross_correlate2d"]


def test_a_failing_cell_gives_its_feedback_and_a_passing_one_none():
    def stub(x, kernel):
        raise NotImplementedError()

    cells = {k: v for k, v in read_test_cells(NOTEBOOK).items() if k == "test_hand_example"}
    results = grade_test_cells(cells, {"cross_correlate2d": stub}, checks)
    assert "not implemented yet" in results["test_hand_example"]
    from solutions.convolution import cross_correlate2d

    assert grade_test_cells(cells, {"cross_correlate2d": cross_correlate2d}, checks) == {
        "test_hand_example": None
    }
    with pytest.raises(CheckFailed):
        from autograder.authoring.notebook_tests import run_test_cell

        run_test_cell(cells["test_hand_example"], {"cross_correlate2d": stub}, checks)
