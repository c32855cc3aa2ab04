"""Lesson 02's cases: the worked example, the stored case tables, their tolerances, and how
fresh cases are drawn when grading.

Tables hold (shapes..., seed); the seed draws the values. Stored reference outputs exist for
cross_correlate2d and im2col (written by `cnn-course references` from `reference_outputs`);
Conv2D is compared with Keras live.
"""

import numpy as np

from ... import references
from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...judge import Case
from ...twin import LayerCase

ASSIGNMENT = "02_convolution"

# The worked example of the lecture notes: a 4x4 image and a 2x2 kernel.
HAND_X = np.array([[0, 3, 0, 1], [2, 0, 1, 2], [3, 0, 0, 2], [0, 1, 2, 0]])
HAND_KERNEL = np.array([[-1, 1], [2, 1]])
HAND_EXPECTED = np.array([[7, -2, 5], [4, 1, 3], [-2, 4, 6]])

# (image shape, kernel shape, seed) of the stored cross-correlation cases.
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
        for index, (x_shape, k_shape, seed) in enumerate(table):
            rng = np.random.default_rng(1000 + seed)
            x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
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


def expected_patches(x, kernel_size) -> np.ndarray:
    """im2col of `x` with patch entries in (m, n, c) order, from NumPy's sliding windows."""
    kh, kw = kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    b, out_h, out_w, c = windows.shape[:4]
    # windows: (b, out_h, out_w, c, kh, kw) -> (b, out_h, out_w, kh, kw, c)
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(b, out_h, out_w, kh * kw * c)


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


def _cross_correlate_case(x, kernel, expected) -> Case:
    (h, w), (kh, kw) = x.shape, kernel.shape
    formula = f"output shape = (H - kh + 1, W - kw + 1) = ({h} - {kh} + 1, {w} - {kw} + 1)"
    return Case(
        (x.copy(), kernel.copy()), expected, f"image {x.shape}, kernel {kernel.shape}", formula
    )


def cross_correlate2d(hidden: bool) -> list[Case]:
    """The stored cases; fresh ones (more shapes when hidden) when grading."""
    table = CROSS_CORRELATE_CASES[kind(hidden)]
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        found = []
        for index in range(len(table)):
            prefix = f"cross_correlate2d/{kind(hidden)}/{index}"
            found.append(
                _cross_correlate_case(*(data[f"{prefix}/{k}"] for k in ("x", "kernel", "out")))
            )
        return found
    rng = cases.generator()
    shapes = [(x_shape, k_shape) for x_shape, k_shape, _ in table]
    for _ in range(EXTRA_HIDDEN if hidden else 0):
        x_shape = tuple(int(n) for n in rng.integers(2, 17, size=2))
        shapes.append((x_shape, tuple(int(rng.integers(1, n + 1)) for n in x_shape)))
    found = []
    for x_shape, k_shape in shapes:
        x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
        found.append(_cross_correlate_case(x, kernel, expected_cross_correlation(x, kernel)))
    return found


def cross_correlate2d_count(hidden: bool) -> int:
    return len(CROSS_CORRELATE_CASES[kind(hidden)])


# --- im2col ------------------------------------------------------------------------------------


def _im2col_case(x, size, expected) -> Case:
    b, h, w, c = x.shape
    formula = (
        f"shape = (batch, H - kh + 1, W - kw + 1, kh * kw * C) = "
        f"({b}, {h - size[0] + 1}, {w - size[1] + 1}, {size[0] * size[1] * c})"
    )
    return Case((x.copy(), size), expected, f"input {x.shape}, kernel_size {size}", formula)


def im2col(hidden: bool) -> list[Case]:
    """The stored cases; fresh ones (more shapes when hidden) when grading."""
    table = IM2COL_CASES[kind(hidden)]
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        found = []
        for index, (_, size, _) in enumerate(table):
            prefix = f"im2col/{kind(hidden)}/{index}"
            found.append(_im2col_case(data[f"{prefix}/x"], size, data[f"{prefix}/out"]))
        return found
    rng = cases.generator()
    shapes = [(x_shape, size) for x_shape, size, _ in table]
    for _ in range(EXTRA_HIDDEN if hidden else 0):
        height, width = (int(n) for n in rng.integers(2, 10, size=2))
        x_shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
        size = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        shapes.append((x_shape, size))
    found = []
    for x_shape, size in shapes:
        x = rng.normal(size=x_shape).astype("float32")
        found.append(_im2col_case(x, size, expected_patches(x, size)))
    return found


def im2col_count(hidden: bool) -> int:
    return len(IM2COL_CASES[kind(hidden)])


# --- Conv2D ------------------------------------------------------------------------------------


def random_conv(input_shape, filters, kernel_size, seed):
    """(inputs, kernel, bias) of a case, drawn from `seed` (a fresh seed when grading)."""
    rng = np.random.default_rng(cases.seed(seed))
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    x = rng.normal(size=input_shape).astype("float32")
    kernel = rng.normal(scale=0.5, size=(kh, kw, input_shape[-1], filters)).astype("float32")
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
    kwargs = {"use_bias": use_bias, "activation": activation}
    kh, kw = (size, size) if isinstance(size, int) else size
    b, h, w = input_shape[:3]
    return LayerCase(
        args=(filters, size),
        expected=None,
        text=f"{describe_call('Conv2D', (filters, size), kwargs)} on inputs {input_shape}",
        shape_hint=(
            f"output shape = (batch, H - kh + 1, W - kw + 1, filters) = "
            f"({b}, {h - kh + 1}, {w - kw + 1}, {filters})"
        ),
        layer_kwargs=kwargs,
        inputs=x,
        weights={"kernel": kernel, "bias": bias} if use_bias else {"kernel": kernel},
    )


def conv2d(hidden: bool) -> list[LayerCase]:
    """The stored Conv2D cases, with fresh values (and more shapes when hidden) when grading."""
    rows = cases.pick(CONV2D_CASES[kind(hidden)], _draw_conv2d_case, EXTRA_HIDDEN if hidden else 0)
    return [conv_layer_case(*row) for row in rows]
