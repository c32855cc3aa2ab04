"""The picture of a mismatch: which map it shows, where it marks, what scale it states."""

import io

import matplotlib.image
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from autograder import shape_figure
from autograder.compare import Tolerance, compare
from autograder.feedback import CheckFailed, fail
from autograder.mismatch_figure import caption, draw, figure, map_axes, weight_axes

TOL = Tolerance(1e-4, 1e-4)
PNG = b"\x89PNG\r\n\x1a\n"


def maps(shape=(2, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def marked(drawing) -> set[tuple[float, float]]:
    """The (row, column) of every rectangle drawn on the figure's three maps."""
    return {
        (patch.get_y() + 0.5, patch.get_x() + 0.5)
        for axes in drawing.axes
        for patch in axes.patches
        if isinstance(patch, Rectangle)
    }


def worst_named(mismatch) -> list[int]:
    """The index the mismatch's text names ("at output[1, 0, 6, 1]")."""
    text = mismatch.lines[0]
    return [int(i) for i in text.split("at output[")[1].split("]")[0].split(",")]


def test_a_padding_border_shows_the_worst_image_and_channel_with_its_border_marked():
    expected = maps()
    actual = expected.copy()
    actual[1, [0, -1], :, 2] += 3.0  # the worst: image 1, channel 2, top and bottom rows
    actual[1, :, [0, -1], 2] += 2.0
    actual[0, :, [0, -1], 0] += 0.5  # another map with a smaller border error
    mismatch = compare(actual, expected, TOL)
    picture = mismatch.picture.with_case("Conv2D(3, 3, padding='same') on inputs (2, 8, 8, 3)")
    shown = picture.shown()
    assert shown.labels == ("image 1", "channel 2")
    assert shown.others_wrong == 1 and shown.maps == 6
    row, column = shown.row, shown.column
    assert [1, row, column, 2] == worst_named(mismatch)
    assert row in (0, 7) or column in (0, 7)
    assert shown.wrong[1:-1, 1:-1].sum() == 0 and shown.wrong[0].all()
    lines = caption(picture)
    assert lines[0] == "case: Conv2D(3, 3, padding='same') on inputs (2, 8, 8, 3)"
    assert "showing image 1, channel 2, where the error is largest" in lines[1]
    assert "1 of the 5 other image/channel maps are also wrong" in lines[1]
    low = min(shown.expected.min(), shown.actual.min())
    high = max(shown.expected.max(), shown.actual.max())
    spread = np.abs(shown.actual - shown.expected).max()
    assert f"expected and yours {low:.4g} to {high:.4g} (shared)" in lines[3]
    assert f"the difference {-spread:.4g} to {spread:.4g}" in lines[3]
    assert marked(figure(picture)) == {(row, column)}
    png = draw(picture)
    assert png.startswith(PNG) and len(png) < 50_000
    height, width, _ = matplotlib.image.imread(io.BytesIO(png)).shape
    assert 600 <= width <= 800 and 150 <= height <= 400


def test_a_shifted_copy_marks_the_position_the_text_names():
    expected = maps((1, 9, 6, 2), seed=1)
    actual = np.roll(expected, 1, axis=2)  # an off-by-one in the sliding window
    mismatch = compare(actual, expected, TOL)
    shown = mismatch.picture.shown()
    _, row, column, channel = worst_named(mismatch)
    assert shown.labels == ("image 0", f"channel {channel}")
    assert (shown.row, shown.column) == (row, column)
    assert shown.expected.shape == (9, 6) and shown.wrong.mean() > 0.9
    assert marked(figure(mismatch.picture)) == {(row, column)}


def test_one_wrong_channel_is_the_one_shown_and_the_others_are_counted():
    expected = maps((3, 5, 5, 4), seed=2)
    actual = expected.copy()
    actual[..., 1] += 0.25  # a bias added to one channel only
    actual[2, 3, 4, 1] += 1.0
    shown = compare(actual, expected, TOL).picture.shown()
    assert shown.labels == ("image 2", "channel 1")
    assert (shown.row, shown.column) == (3, 4)
    assert shown.others_wrong == 2 and shown.maps == 12
    assert "2 of the 11 other image/channel maps are also wrong" in shown.which()


def test_only_maps_whose_values_are_off_get_a_picture():
    expected = maps((4, 6), seed=3)
    assert compare(expected + 1, expected, TOL).picture is None  # (batch, units): no map
    assert compare(expected, expected, TOL) is None
    single = compare(expected + np.eye(4, 6), expected, TOL, axes="hw").picture
    assert single.shown().labels == () and "4 of 24 positions are off" in caption(single)[0]
    batch = maps((2, 5, 5, 3))
    assert compare(batch[:1], batch, TOL).picture is None  # only the batch size differs
    nan = batch.copy()
    nan[0, 0, 0, 0] = np.nan
    assert compare(nan, batch, TOL).picture is None


def test_axes_of_maps_and_kernels():
    assert map_axes((2, 5, 5, 3), None) == "nhwc"
    assert map_axes((5, 5, 3), None) is None
    assert map_axes((5, 5), "hw") == "hw" and map_axes((5, 5), "hwc") is None
    assert weight_axes("kernel", (3, 3, 2, 4)) == "hwio"
    assert weight_axes("depthwise_kernel", (3, 3, 2, 1)) == "hwim"
    assert weight_axes("bias", (4,)) is None and weight_axes("inputs", (2, 5, 5, 3)) is None
    kernel = maps((3, 3, 2, 4), seed=4)
    wrong = kernel.copy()
    wrong[::-1, ::-1, 1, 3] += 0.5
    picture = compare(wrong, kernel, TOL, axes=weight_axes("kernel", kernel.shape)).picture
    assert picture.shown().labels == ("input channel 1", "filter 3")
    first = np.zeros((2, 3, 4, 5))  # channels first
    wrong = first.copy()
    wrong[1, 2, 0, :] = 1.0
    shown = compare(wrong, first, TOL, axes="nchw").picture.shown()
    assert shown.labels == ("image 1", "channel 2") and shown.expected.shape == (4, 5)


def test_a_failure_carries_its_picture_with_its_case_and_draws_it_only_when_asked():
    expected = maps((1, 4, 4, 1))
    mismatch = compare(expected * 2, expected, TOL)
    with pytest.raises(CheckFailed) as raised:
        fail("It is wrong.", mismatch, case="a 4x4 image", hint="look again")
    failure = raised.value
    assert str(failure) == "\n".join(
        ["It is wrong.", "  case: a 4x4 image", *(f"  {line}" for line in mismatch.lines)]
        + ["  Hint: look again"]
    )
    assert failure.picture.case == "a 4x4 image"
    assert failure.figure().startswith(PNG)
    with pytest.raises(CheckFailed) as raised:
        fail("It is wrong.", ["no arrays here"])
    assert raised.value.picture is None and raised.value.figure() is None


def test_a_large_map_is_shown_around_its_worst_position_and_stays_small():
    expected = maps((1, 224, 224, 3), seed=5)
    actual = expected.copy()
    actual[0, 0, :, 2] += 1.5  # a wrong top row
    picture = compare(actual, expected, TOL).picture
    shown = picture.shown()
    assert (shown.row, shown.column) == picture.worst[1:3] and shown.row == 0
    assert shown.expected.shape == (48, 48) and shown.top == 0
    assert shown.left <= shown.column < shown.left + 48
    assert shown.wrong[0].all() and not shown.wrong[1:].any()
    assert f"columns {shown.left}-{shown.left + 47} of 224 x 224" in caption(picture)[1]
    assert marked(figure(picture)) == {(shown.row, shown.column)}
    png = draw(picture)
    assert png.startswith(PNG) and len(png) < 30_000


@pytest.mark.parametrize("shape", [(4, 4), (3, 5)])  # a values mismatch, a shape mismatch
def test_the_caption_is_text_never_math(shape):
    """ "$" and "\\" in the caption are printed as they are, not parsed as math (a broken
    formula would stop the picture, a huge one would slow the grader)."""
    expected = np.arange(16.0).reshape(4, 4)
    actual = np.ones(shape)
    mismatch = compare(actual, expected, TOL, axes="hw")
    case = r"Conv$\frac{\frac{1}{2}}{$(3, 3)"
    picture = mismatch.picture.with_case(case)
    drawn = figure(picture) if shape == (4, 4) else shape_figure.figure(picture)
    assert case in drawn.texts[0].get_text()
    assert draw(picture).startswith(PNG)
