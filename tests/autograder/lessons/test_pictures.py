"""Every failing check that compares maps shows a picture, on wrong code no catalogue holds.

Each wrong version (uncatalogued_mistakes.py) runs a lesson's notebook test cell in this
process; the cell must fail with a picture of the mismatch: the values' one, or, where the
mistake changes the output's size (a stride forgotten, a window one short, padding by k), the
picture of two maps of different shapes (also in a gradient check, whose loss such an output
cannot enter).
"""

import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import run_test_cell
from autograder.feedback import CheckFailed
from autograder.mismatch_figure import MapMismatch
from autograder.shape_figure import ShapeMismatch

from .cells import notebook_cells, stubbed
from .uncatalogued_mistakes import WRONG

PNG = b"\x89PNG\r\n\x1a\n"

# (lesson, wrong version, the cell whose check compares maps, the picture it must show)
PICTURED = [
    ("02_convolution", "flip_loops", "test_cross_correlate2d", MapMismatch),
    ("02_convolution", "flip_patch_order", "test_conv2d_matches_keras", MapMismatch),
    ("03_padding", "pad_bottom_right_only", "test_zero_padding", MapMismatch),
    ("03_padding", "same_pads_k", "test_conv2d_matches_keras", ShapeMismatch),
    ("03_padding", "axes_swapped", "test_zero_padding", ShapeMismatch),
    ("04_stride", "forgot_to_stride", "test_conv2d_strides", ShapeMismatch),
    ("04_stride", "forgot_to_stride", "test_conv2d_trains", ShapeMismatch),
    ("04_stride", "window_start_off_by_one", "test_im2col", ShapeMismatch),
    ("04_stride", "one_short", "test_conv2d_dilation", ShapeMismatch),
    ("05_pooling", "same_pads_after_only", "test_pool_windows", MapMismatch),
    ("05_pooling", "windows_not_strided", "test_pool_windows", ShapeMismatch),
    ("06_backprop", "grad_x_scatter_flipped", "test_conv2d_backward_gradient_check", MapMismatch),
    (
        "06_backprop",
        "grad_kernel_axes_swapped",
        "test_conv2d_backward_matches_tensorflow",
        MapMismatch,
    ),
    ("06_backprop", "grad_x_half_padded", "test_conv2d_backward_gradient_check", ShapeMismatch),
    (
        "06_backprop",
        "pool_gradient_to_largest_magnitude",
        "test_max_pool_backward_matches_tensorflow",
        MapMismatch,
    ),
    ("07_batchnorm", "batch_stats_unless_false", "test_inference_mode", MapMismatch),
    ("07_batchnorm", "always_batch_moments", "test_trainable_false", MapMismatch),
    ("07_batchnorm", "backward_over_batch_axis_only", "test_batchnorm_backward", MapMismatch),
]


# What the picture must show of some mistakes, so that it can be seen.
SEEN = {
    # yours is larger: positions only yours has, none only the expected has
    ("04_stride", "forgot_to_stride"): lambda shown: shown.only(0) and not shown.only(1),
    ("03_padding", "same_pads_k"): lambda shown: shown.only(0) and not shown.only(1),
    # yours is one short: the reverse
    ("04_stride", "one_short"): lambda shown: shown.only(1) and not shown.only(0),
    # zeros below and right only: the top row and the left column are off
    ("03_padding", "pad_bottom_right_only"): lambda shown: (
        shown.wrong[0].any() and shown.wrong[:, 0].any()
    ),
}


def failure_of(lesson: str, version: str, cell: str) -> CheckFailed:
    objects = stubbed(lesson, [])
    exec(WRONG[lesson, version], objects)
    with pytest.raises(CheckFailed) as raised:
        run_test_cell(notebook_cells(lesson)[cell], objects, lessons.module(lesson, "checks"))
    return raised.value


def test_every_wrong_version_is_pictured():
    assert {(lesson, version) for lesson, version, _, _ in PICTURED} == set(WRONG)


@pytest.mark.parametrize(("lesson", "version", "cell", "kind"), PICTURED)
def test_a_failing_map_check_shows_a_picture(lesson, version, cell, kind):
    failure = failure_of(lesson, version, cell)
    assert isinstance(failure.picture, kind), str(failure)
    assert failure.picture.case and failure.picture.case in str(failure)
    png = failure.figure()
    assert png.startswith(PNG) and len(png) < 50_000
    if (lesson, version) in SEEN:
        assert SEEN[lesson, version](failure.picture.shown()), str(failure)
    if kind is ShapeMismatch:  # the text the student reads names the shapes the picture shows
        shown = failure.picture.shown()
        (yours, expected), line = shown.sizes, str(failure)
        assert "has shape" in line and yours != expected
        assert shown.only(0) or shown.only(1)
