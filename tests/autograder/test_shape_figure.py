"""The picture of two maps of different shapes: what it shows, marks and says."""

import io

import matplotlib.image
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from autograder.compare import Tolerance, compare
from autograder.feedback import CheckFailed, fail
from autograder.mismatch_figure import draw
from autograder.shape_figure import ShapeMismatch, caption, figure

TOL = Tolerance(1e-4, 1e-4)
PNG = b"\x89PNG\r\n\x1a\n"


def maps(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def patches(drawing, gid: str) -> list[tuple[float, float, float, float]]:
    """(top, left, rows, columns) of every rectangle called `gid` on the figure, in map indices."""
    return [
        (patch.get_y() + 0.5, patch.get_x() + 0.5, patch.get_height(), patch.get_width())
        for axes in drawing.axes
        for patch in axes.patches
        if isinstance(patch, Rectangle) and patch.get_gid() == gid
    ]


def size_of(png: bytes) -> tuple[int, int]:
    height, width, _ = matplotlib.image.imread(io.BytesIO(png)).shape
    return height, width


def test_a_stride_forgotten_shows_both_maps_the_larger_one_hatched_and_the_worst_marked():
    full = maps((2, 5, 5, 4))
    expected = full[:, ::2, ::2]  # stride 2; yours: stride 1
    mismatch = compare(full, expected, TOL)
    assert mismatch.kind == "shape"
    assert mismatch.lines == ("output has shape (2, 5, 5, 4); expected (2, 3, 3, 4)",)
    picture = mismatch.picture.with_case("Conv2D(4, 3, strides=2) on inputs (2, 11, 11, 3)")
    assert isinstance(picture, ShapeMismatch)
    error = np.abs(full[:, :3, :3] - expected)
    image, row, column, channel = np.unravel_index(np.argmax(error), error.shape)
    shown = picture.shown()
    assert shown.labels == (f"image {image}", f"channel {channel}")
    assert (shown.row, shown.column) == (row, column)
    assert shown.expected.shape == (3, 3) and shown.actual.shape == (5, 5)
    off = int(
        (
            error[image, :, :, channel]
            > TOL.atol + TOL.rtol * np.abs(expected)[image, :, :, channel]
        ).sum()
    )
    lines = caption(picture)
    assert lines[0] == "case: Conv2D(4, 3, strides=2) on inputs (2, 11, 11, 3)"
    assert lines[1].startswith(
        f"output: shapes differ: yours 5 x 5, expected 3 x 3; showing image {image}, "
        f"channel {channel}, where the error is largest; "
    )
    assert lines[2] == (
        f"where both have values (the top-left 3 x 3): {off} of 9 positions are off; "
        f"largest error (marked): row {row}, column {column}"
    )
    assert lines[3] == "grey hatched: positions only yours has"
    low = min(shown.expected.min(), shown.actual.min())
    high = max(shown.expected.max(), shown.actual.max())
    assert f"expected and yours {low:.4g} to {high:.4g} (shared)" in lines[4]
    drawing = figure(picture)
    assert set(patches(drawing, "worst")) == {(row, column, 1, 1)}
    assert len(patches(drawing, "worst")) == 6  # white under black, on each of the three
    assert patches(drawing, "only yours") == [(3, 0, 2, 5), (0, 3, 3, 2)]
    assert patches(drawing, "only expected") == []
    png = draw(picture)
    assert png.startswith(PNG) and len(png) < 30_000
    height, width = size_of(png)
    assert 600 <= width <= 800 and 150 <= height <= 400


def test_an_output_one_short_that_agrees_where_it_has_values_marks_only_the_missing_part():
    expected = maps((1, 5, 5, 2), seed=1)
    picture = compare(expected[:, :4, :3], expected, TOL).picture
    shown = picture.shown()
    assert shown.row is None and shown.labels == ("image 0", "channel 0")
    assert shown.only(0) == [] and shown.only(1) == [(4, 0, 1, 5), (0, 3, 4, 2)]
    lines = caption(picture)
    assert (
        lines[0] == "output: shapes differ: yours 4 x 3, expected 5 x 5; showing image 0, channel 0"
    )
    assert lines[1] == "where both have values (the top-left 4 x 3): they agree"
    assert lines[2] == "white crossed: positions only the expected has"
    assert "the difference 0 to 0" in lines[3]
    drawing = figure(picture)
    assert patches(drawing, "worst") == []
    assert patches(drawing, "only expected") == [(4, 0, 1, 5), (0, 3, 4, 2)]
    assert draw(picture).startswith(PNG)


def test_a_map_taller_and_narrower_has_positions_only_each_has():
    expected = maps((1, 4, 5, 1), seed=2)
    actual = maps((1, 6, 3, 1), seed=3)
    shown = compare(actual, expected, TOL).picture.shown()
    assert shown.only(0) == [(4, 0, 2, 3)] and shown.only(1) == [(0, 3, 4, 2)]
    lines = caption(compare(actual, expected, TOL).picture)
    assert lines[2] == (
        "grey hatched: positions only yours has; white crossed: positions only the expected has"
    )


def test_other_axes_that_differ_are_said_and_only_maps_both_have_are_counted():
    expected = maps((2, 5, 5, 4), seed=4)
    actual = expected[:1, :4, :4, :3].copy()
    actual[0, 1, 2, 1] += 1.0
    picture = compare(actual, expected, TOL).picture
    shown = picture.shown()
    assert shown.labels == ("image 0", "channel 1") and (shown.row, shown.column) == (1, 2)
    assert shown.maps == 3 and shown.others_wrong == 0
    assert caption(picture)[0] == (
        "output: shapes differ: yours 4 x 4, expected 5 x 5; yours has 1 image, expected 2; "
        "yours has 3 channels, expected 4; showing image 0, channel 1, where the error is "
        "largest; 0 of the 2 other image/channel maps are also wrong"
    )


def test_kernels_and_channels_first_maps_are_shown_by_their_own_axes():
    kernel = maps((3, 3, 2, 4), seed=5)
    wrong = kernel[:2, :2].copy()
    wrong[1, 0, 1, 3] += 2.0
    shown = compare(wrong, kernel, TOL, name="grad_kernel", axes="hwio").picture.shown()
    assert shown.labels == ("input channel 1", "filter 3") and (shown.row, shown.column) == (1, 0)
    first = np.zeros((1, 2, 3, 6))  # (n, c, h, w)
    shown = compare(np.ones((1, 2, 4, 5)), first, TOL, axes="nchw").picture.shown()
    assert shown.expected.shape == (3, 6) and shown.actual.shape == (4, 5)
    assert shown.only(0) == [(3, 0, 1, 5)] and shown.only(1) == [(0, 5, 3, 1)]


def test_no_shape_picture_where_there_is_no_map_or_nothing_to_see():
    batch = maps((2, 5, 5, 3), seed=6)
    assert compare(batch[0], batch, TOL).picture is None  # ranks differ
    assert compare(batch[:, :, :, 0], batch[:, :4, :, 0], TOL).picture is None  # rank 3: no axes
    assert compare(batch[:1], batch, TOL).picture is None  # only the batch size, values agree
    assert compare(batch[:1] + 1, batch, TOL).picture is not None  # ... values differ
    assert compare(batch[:, :0], batch, TOL).picture is None  # an empty map
    nan = batch[:, :4].copy()
    nan[0, 0, 0, 0] = np.nan
    assert compare(nan, batch, TOL).picture is None
    assert compare(batch[:, :4].astype(str), batch, TOL).picture is None
    assert compare(np.ones((5, 5)), np.ones((3, 3)), TOL, axes="hw").picture is not None


def test_a_large_map_is_shown_around_the_worst_position_and_stays_small():
    expected = maps((1, 100, 100, 1), seed=7)
    actual = expected[:, :90, :90].copy()
    actual[0, 70, 80, 0] += 5.0
    picture = compare(actual, expected, TOL).picture
    shown = picture.shown()
    assert (shown.row, shown.column) == (70, 80)
    assert shown.expected.shape == (48, 48) and shown.actual.shape[0] <= 48
    assert shown.top <= 70 < shown.top + 48 and shown.left <= 80 < shown.left + 48
    assert (
        f"shown: rows {shown.top}-{shown.top + 47}, columns {shown.left}-{shown.left + 47}"
        in (caption(picture)[2])
    )
    assert set(patches(figure(picture), "worst")) == {(70, 80, 1, 1)}
    png = draw(picture)
    assert png.startswith(PNG) and len(png) < 30_000


def test_a_failure_on_the_shape_carries_the_picture_and_its_text_is_unchanged():
    expected = maps((1, 3, 3, 1), seed=8)
    mismatch = compare(maps((1, 5, 5, 1), seed=9), expected, TOL)
    with pytest.raises(CheckFailed) as raised:
        fail("It is wrong.", mismatch, case="a 7x7 image, stride 2", hint="(7 - 3) // 2 + 1 = 3")
    failure = raised.value
    assert str(failure) == "\n".join(
        [
            "It is wrong.",
            "  case: a 7x7 image, stride 2",
            "  output has shape (1, 5, 5, 1); expected (1, 3, 3, 1)",
            "  Hint: (7 - 3) // 2 + 1 = 3",
        ]
    )
    assert failure.folds and failure.picture.case == "a 7x7 image, stride 2"
    assert failure.figure().startswith(PNG)
