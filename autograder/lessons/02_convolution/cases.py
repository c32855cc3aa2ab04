"""Lesson 02's cases: the worked example, the stored case tables (shapes..., seed: the seed
draws the values), their tolerances, and how fresh cases are drawn when grading.
cross_correlate2d and im2col have stored outputs (`reference_outputs`); Conv2D is compared
with Keras live."""

import numpy as np

from ...compare import Tolerance
from ...harness import cases
from ...judge import Case
from ...keras_layers import layer_case, pair
from ...twin import LayerCase
from . import mistakes as catalogue

ASSIGNMENT = "02_convolution"

# The worked example of the lecture notes: a 4x4 image and a 2x2 kernel.
HAND_X = np.array([[0, 3, 0, 1], [2, 0, 1, 2], [3, 0, 0, 2], [0, 1, 2, 0]])
HAND_KERNEL = np.array([[-1, 1], [2, 1]])
HAND_EXPECTED = np.array([[7, -2, 5], [4, 1, 3], [-2, 4, 6]])

# (image shape, kernel shape, seed[, "integer"]) of the stored cross-correlation cases; an
# "integer" case's image holds whole numbers 0..9 (an int64 array), the others are normal floats.
CROSS_CORRELATE_CASES = {
    "public": [((5, 5), (3, 3), 1), ((7, 6), (2, 3), 2), ((8, 8), (1, 1), 3), ((4, 9), (4, 2), 4)],
    "hidden": [
        ((6, 6), (6, 6), 5),
        ((10, 3), (3, 1), 6),
        ((3, 10), (1, 3), 7),
        ((12, 11), (5, 4), 8),
        ((9, 9), (2, 2), 9),
        ((2, 2), (1, 2), 10),
        ((16, 15), (7, 7), 11),
        ((5, 8), (5, 1), 12),
        # Whole numbers 0..9 as lesson 02's worked example and photos have them, with a random
        # kernel: an output made in the image's integer dtype (np.zeros_like(x)) rounds it.
        ((6, 7), (3, 2), 13, "integer"),
    ],
}
# (input shape, kernel size, seed) of the stored im2col cases.
IM2COL_CASES = {
    "public": [((1, 4, 4, 1), (2, 2), 1), ((2, 5, 6, 3), (3, 3), 2), ((2, 6, 5, 2), (2, 3), 3)],
    "hidden": [
        ((3, 7, 7, 4), (3, 3), 4),
        ((1, 5, 5, 2), (5, 5), 5),
        ((2, 4, 9, 1), (1, 4), 6),
        ((1, 8, 6, 3), (4, 1), 7),
    ],
}
# (input shape, filters, kernel size, use_bias, activation, seed) compared with Keras live.
CONV2D_CASES = {
    "public": [
        ((2, 8, 8, 1), 2, 3, True, None, 1),
        ((2, 9, 7, 3), 4, (3, 2), True, "relu", 2),
        ((1, 6, 6, 2), 3, 1, True, None, 3),
        ((3, 10, 9, 4), 5, (5, 4), False, None, 4),
    ],
    "hidden": [
        ((1, 5, 5, 3), 2, 5, True, None, 5),
        ((2, 12, 4, 2), 3, (1, 3), True, "tanh", 6),
        ((2, 7, 11, 16), 8, 3, True, None, 7),
        ((4, 6, 6, 1), 1, (2, 2), True, "sigmoid", 8),
        ((1, 9, 9, 5), 6, (4, 4), False, "relu", 9),
        ((2, 3, 13, 3), 2, (3, 5), True, None, 10),
    ],
}

# When grading, hidden checks add this many cases of shapes drawn at random.
EXTRA_HIDDEN = 4

# float64 inputs of size ~1: a float32 implementation is off by a few 1e-7 per product.
CROSS_CORRELATE_TOL = Tolerance(1e-4, 1e-5, "float32 or float64 sums of at most 49 products")
HAND_TOL = Tolerance(1e-6, 0.0, "integer example, exact up to float rounding")
IM2COL_TOL = Tolerance(1e-6, 0.0, "im2col only copies values")
CONV2D_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 144 products, in another order than Keras"
)
GRADIENT_TOL = Tolerance(1e-3, 1e-3, "float32 gradients summed over batch and positions")


def kind(hidden: bool) -> str:
    return "hidden" if hidden else "public"


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored cross_correlate2d and im2col cases, from `solution`."""
    arrays = {}
    for name, table in CROSS_CORRELATE_CASES.items():
        for index, row in enumerate(table):
            x, kernel = _image_and_kernel(np.random.default_rng(1000 + row[2]), row)
            prefix = f"cross_correlate2d/{name}/{index}"
            arrays[f"{prefix}/x"], arrays[f"{prefix}/kernel"] = x, kernel
            arrays[f"{prefix}/out"] = np.asarray(solution.cross_correlate2d(x, kernel))
    for name, table in IM2COL_CASES.items():
        for index, (x_shape, size, seed) in enumerate(table):
            x = np.random.default_rng(1000 + seed).normal(size=x_shape).astype("float32")
            prefix = f"im2col/{name}/{index}"
            arrays[f"{prefix}/x"] = x
            arrays[f"{prefix}/out"] = np.asarray(solution.im2col(x, size))
    return arrays


def expected_cross_correlation(x, kernel) -> np.ndarray:
    """The valid cross-correlation of one image with one kernel (SciPy's, computed here)."""
    from scipy.signal import correlate2d

    return correlate2d(np.asarray(x, float), np.asarray(kernel, float), mode="valid")


# --- the worked example ------------------------------------------------------------------------


def hand_example(hidden: bool = False) -> list[Case]:
    """The worked example, or (when grading) the same example in disguise: both arrays
    transposed or not and scaled by whole numbers, so that only a cross-correlation answers."""
    if not cases.drawing():
        return [Case((HAND_X, HAND_KERNEL), HAND_EXPECTED, "the worked 4x4 example")]
    rng = cases.generator()
    a, b = (int(v) for v in rng.integers(2, 6, size=2))
    x, kernel, expected = a * HAND_X, b * HAND_KERNEL, a * b * HAND_EXPECTED
    if rng.integers(2):
        text = f"the worked 4x4 example, transposed, times {a} and {b}"
        return [Case((x.T, kernel.T), expected.T, text)]
    return [
        Case((x, kernel), expected, f"the worked 4x4 example, image times {a}, kernel times {b}")
    ]


# --- cross_correlate2d -------------------------------------------------------------------------


def _image_and_kernel(rng, row):
    """The image and kernel of a row: normal floats, or an image of whole numbers 0..9 when
    the row says "integer" (the kernel stays float, so the output is not whole)."""
    x_shape, k_shape = row[:2]
    if row[3:] == ("integer",):
        return rng.integers(0, 10, size=x_shape), rng.normal(size=k_shape)
    return rng.normal(size=x_shape), rng.normal(size=k_shape)


def _cross_correlate_case(x, kernel, expected) -> Case:
    (h, w), (kh, kw) = x.shape, kernel.shape
    formula = f"output shape = (H - kh + 1, W - kw + 1) = ({h} - {kh} + 1, {w} - {kw} + 1)"
    text = f"image {x.shape}, kernel {kernel.shape}"
    if x.dtype.kind in "iu":
        text = f"image {x.shape} of integers (dtype {x.dtype}), float kernel {kernel.shape}"
    return Case((x.copy(), kernel.copy()), expected, text, formula)


def _draw_image_and_kernel(rng):
    """A fresh (image shape, kernel shape) for grading."""
    x_shape = tuple(int(n) for n in rng.integers(2, 17, size=2))
    return x_shape, tuple(int(rng.integers(1, n + 1)) for n in x_shape)


def cross_correlate2d(hidden: bool) -> list[Case]:
    """The stored cases; fresh ones (more shapes when hidden) when grading."""
    return [
        _cross_correlate_case(x, kernel, expected)
        for _, (x, kernel), expected in cases.stored_or_fresh(
            ASSIGNMENT,
            f"cross_correlate2d/{kind(hidden)}",
            cases.rows(CROSS_CORRELATE_CASES, hidden, _draw_image_and_kernel, EXTRA_HIDDEN),
            ("x", "kernel"),
            _image_and_kernel,
            lambda row, x, kernel: expected_cross_correlation(x, kernel),
        )
    ]


# --- im2col ------------------------------------------------------------------------------------


def _im2col_case(x, size, expected) -> Case:
    b, h, w, c = x.shape
    formula = (
        f"shape = (batch, H - kh + 1, W - kw + 1, kh * kw * C) = "
        f"({b}, {h - size[0] + 1}, {w - size[1] + 1}, {size[0] * size[1] * c})"
    )
    return Case((x.copy(), size), expected, f"input {x.shape}, kernel_size {size}", formula)


def _draw_im2col_case(rng):
    """A fresh (input shape, kernel size) for grading."""
    height, width = (int(n) for n in rng.integers(2, 10, size=2))
    x_shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    return x_shape, (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))


def im2col(hidden: bool) -> list[Case]:
    """The stored cases; fresh ones (more shapes when hidden) when grading."""
    return [
        _im2col_case(x, row[1], expected)
        for row, (x,), expected in cases.stored_or_fresh(
            ASSIGNMENT,
            f"im2col/{kind(hidden)}",
            cases.rows(IM2COL_CASES, hidden, _draw_im2col_case, EXTRA_HIDDEN),
            ("x",),
            lambda rng, row: (rng.normal(size=row[0]).astype("float32"),),
            lambda row, x: catalogue.patches(x, row[1]).astype(x.dtype),  # NumPy's windows
        )
    ]


def stored_count(table: dict):
    """The number of stored cases of a public or hidden check (its OK line's count)."""
    return lambda hidden: len(table[kind(hidden)])


# --- Conv2D ------------------------------------------------------------------------------------


def random_conv(input_shape, filters, kernel_size, seed):
    """(inputs, kernel, bias) of a case, drawn from `seed` (a fresh seed when grading)."""
    rng = np.random.default_rng(cases.seed(seed))
    x = rng.normal(size=input_shape).astype("float32")
    kernel = rng.normal(scale=0.5, size=(*pair(kernel_size), input_shape[-1], filters))
    kernel = kernel.astype("float32")
    bias = rng.normal(size=(filters,)).astype("float32")
    return x, kernel, bias


def _draw_conv2d_case(rng):
    """A fresh (input shape, filters, kernel size, use_bias, activation, seed) for grading."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 8)), kw + int(rng.integers(0, 8)))
    shape = (*shape, int(rng.integers(1, 9)))
    activation = [None, "relu", "tanh", "sigmoid"][int(rng.integers(4))]
    return shape, int(rng.integers(1, 9)), (kh, kw), bool(rng.integers(4)), activation, 0


def conv_layer_case(input_shape, filters, size, use_bias, activation, seed) -> LayerCase:
    """A Conv2D case: its constructor's arguments, inputs and weights (no bias without one)."""
    x, kernel, bias = random_conv(input_shape, filters, size, seed)
    (kh, kw), (b, h, w) = pair(size), input_shape[:3]
    return layer_case(
        "Conv2D",
        (filters, size),
        {"use_bias": use_bias, "activation": activation},
        x,
        {"kernel": kernel, "bias": bias if use_bias else None},
        "output shape = (batch, H - kh + 1, W - kw + 1, filters) = "
        f"({b}, {h - kh + 1}, {w - kw + 1}, {filters})",
    )


def conv2d(hidden: bool) -> list[LayerCase]:
    """The stored Conv2D cases, with fresh values (and more shapes when hidden) when grading."""
    rows = cases.rows(CONV2D_CASES, hidden, _draw_conv2d_case, EXTRA_HIDDEN)
    return [conv_layer_case(*row) for row in rows]
