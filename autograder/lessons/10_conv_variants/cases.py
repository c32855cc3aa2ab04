"""Lesson 10's cases: the costs worked by hand from the lecture notes' formulas (the tests
confirm them against Keras's parameter counts), the stored depthwise and transposed
convolutions, the layer cases compared with Keras live, tolerances, and how fresh cases are
drawn when grading: new arguments for every cost case, their answers from the formulas; new
values for every array case; random shapes added to the hidden checks.

Keras's Conv2DTranspose fails in oneDNN on some CPUs for 'same' padding with an even kernel
and output_padding 0 along that axis: no case and no draw asks Keras for that.
"""

from fractions import Fraction

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...judge import Case
from ...twin import LayerCase
from . import mistakes as catalogue

ASSIGNMENT = "10_conv_variants"

# --- costs, worked by hand -------------------------------------------------------------------
# (kernel_size, in_channels, filters[, use_bias]) -> parameters of a standard convolution. The
# lecture's digit network (5x5x1 -> 4, 5x5x4 -> 8, 4x4x8 -> 12) and its fully connected layer
# of 4 inputs and 2 outputs written as a 1x1 convolution (4 * 2 + 2).
CONV_PARAMETERS_CASES = {
    "public": [
        (((5, 5), 1, 4), 104),
        (((5, 5), 4, 8), 808),
        (((4, 4), 8, 12), 1548),
        (((1, 1), 4, 2), 10),
        (((3, 3), 32, 64), 18496),
    ],
    "hidden": [
        (((3, 3), 3, 16, False), 432),
        (((7, 7), 3, 64), 9472),
        (((1, 1), 512, 1024), 525312),
        (((3, 5), 2, 3), 93),
        (((2, 2), 1, 1, False), 4),
    ],
}
# (kernel_size, in_channels, filters[, depth_multiplier[, use_bias]]) -> parameters of a
# depthwise-separable convolution: kh kw C M + C M filters (+ filters).
SEPARABLE_PARAMETERS_CASES = {
    "public": [
        (((3, 3), 32, 64), 2400),
        (((3, 3), 3, 16, 2), 166),
        (((5, 5), 4, 8, 1, False), 132),
    ],
    "hidden": [
        (((3, 3), 512, 512), 267264),
        (((1, 1), 4, 2), 14),
        (((3, 2), 2, 5, 3, False), 66),
        (((7, 7), 1, 1), 51),
    ],
}
# (output_size, kernel_size, in_channels, filters) -> multiplications of a convolution.
# The lecture's K * K * W * W: one channel, one filter; MobileNet's second layer.
CONV_MULTIPLICATIONS_CASES = {
    "public": [
        (((28, 28), (3, 3), 1, 1), 7056),
        (((28, 28), (5, 5), 1, 4), 78400),
        (((112, 112), (3, 3), 32, 64), 231211008),
    ],
    "hidden": [
        (((14, 14), (5, 5), 4, 8), 156800),
        (((7, 5), (1, 1), 12, 3), 1260),
        (((1, 1), (28, 28), 1, 10), 7840),
        (((10, 6), (3, 2), 2, 5), 3600),
    ],
}
# (output_size, kernel_size, in_channels, filters[, depth_multiplier]) -> multiplications of a
# depthwise-separable convolution: oh ow (kh kw C M + C M filters).
SEPARABLE_MULTIPLICATIONS_CASES = {
    "public": [
        (((112, 112), (3, 3), 32, 64), 29302784),
        (((28, 28), (3, 3), 1, 1), 7840),
        (((8, 8), (5, 5), 3, 16, 2), 15744),
    ],
    "hidden": [
        (((14, 14), (3, 3), 512, 512), 52283392),
        (((5, 7), (1, 1), 4, 4), 700),
        (((6, 4), (3, 2), 2, 3, 3), 1296),
    ],
}
# (kernel_size, in_channels, filters[, depth_multiplier]) -> the separable convolution's share
# of the standard one's multiplications: 1 / N + 1 / K^2 with depth_multiplier 1.
COST_RATIO_CASES = {
    "public": [
        (((3, 3), 32, 64), Fraction(1, 64) + Fraction(1, 9)),
        (((3, 3), 512, 512), Fraction(1, 512) + Fraction(1, 9)),
        (((5, 5), 16, 32), Fraction(1, 32) + Fraction(1, 25)),
    ],
    "hidden": [
        (((7, 7), 1, 1), Fraction(1, 1) + Fraction(1, 49)),
        (((3, 3), 8, 16, 2), Fraction(2, 16) + Fraction(2, 9)),
        (((3, 5), 4, 10), Fraction(1, 10) + Fraction(1, 15)),
        (((1, 1), 3, 6), Fraction(1, 6) + 1),
    ],
}
# (output_size, kernel_size[, separable]) -> multiplications of one channel: K K W W for a
# (K, K) kernel, 2 K W W for one that is the outer product of a column and a row (ratio 2/K).
SPATIAL_CASES = {
    "public": [
        (((28, 28), (3, 3)), 7056),
        (((28, 28), (3, 3), True), 4704),
        (((32, 32), (5, 5)), 25600),
        (((32, 32), (5, 5), True), 10240),
    ],
    "hidden": [
        (((6, 9), (3, 5)), 810),
        (((6, 9), (3, 5), True), 432),
        (((100, 100), (1, 1), True), 20000),
        (((10, 10), (7, 7), False), 4900),
    ],
}


def conv_parameters_formula(kernel_size, in_channels, filters, use_bias=True):
    (kh, kw) = kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def separable_parameters_formula(kernel_size, in_channels, filters, multiplier=1, use_bias=True):
    (kh, kw), middle = kernel_size, in_channels * multiplier
    return kh * kw * middle + middle * filters + (filters if use_bias else 0)


def conv_multiplications_formula(output_size, kernel_size, in_channels, filters):
    return int(np.prod(output_size)) * int(np.prod(kernel_size)) * in_channels * filters


def separable_multiplications_formula(output_size, kernel_size, in_channels, filters, m=1):
    positions, taps = int(np.prod(output_size)), int(np.prod(kernel_size))
    return positions * (taps * in_channels * m + in_channels * m * filters)


def cost_ratio_formula(kernel_size, in_channels, filters, multiplier=1):
    taps = int(np.prod(kernel_size))
    return Fraction(multiplier, filters) + Fraction(multiplier, taps)


def spatial_formula(output_size, kernel_size, separable=False):
    (oh, ow), (kh, kw) = output_size, kernel_size
    return oh * ow * (kh + kw) if separable else oh * ow * kh * kw


def _size(rng, low, high):
    return (int(rng.integers(low, high)), int(rng.integers(low, high)))


def _draw_costs(rng, args):
    """Fresh arguments of the same form as `args` (the same count, booleans kept)."""
    fresh = []
    for value in args:
        if isinstance(value, bool):
            fresh.append(value)
        elif isinstance(value, tuple):
            fresh.append(_size(rng, 1, 60))
        else:
            fresh.append(int(rng.integers(1, 600)))
    return tuple(fresh)


def _costs(name, table, hidden, formula) -> list[Case]:
    """The stored cases; when grading, each redrawn in the same form, then random cases
    (hidden), the answers from `formula`."""
    rows = table["hidden" if hidden else "public"]
    if cases.drawing():
        rng = cases.generator()
        calls = [_draw_costs(rng, args) for args, _ in rows]
        extra = cases.pick([], lambda g: _draw_costs(g, rows[0][0]), 2 if hidden else 0)
        rows = [(args, formula(*args)) for args in calls + extra]
    return [Case(args, answer, f"{name}{args!r}") for args, answer in rows]


def conv_parameters(hidden: bool) -> list[Case]:
    return _costs("conv_parameters", CONV_PARAMETERS_CASES, hidden, conv_parameters_formula)


def separable_parameters(hidden: bool) -> list[Case]:
    return _costs(
        "separable_parameters", SEPARABLE_PARAMETERS_CASES, hidden, separable_parameters_formula
    )


def conv_multiplications(hidden: bool) -> list[Case]:
    return _costs(
        "conv_multiplications", CONV_MULTIPLICATIONS_CASES, hidden, conv_multiplications_formula
    )


def separable_multiplications(hidden: bool) -> list[Case]:
    return _costs(
        "separable_multiplications",
        SEPARABLE_MULTIPLICATIONS_CASES,
        hidden,
        separable_multiplications_formula,
    )


def cost_ratio(hidden: bool) -> list[Case]:
    return _costs("cost_ratio", COST_RATIO_CASES, hidden, cost_ratio_formula)


def spatial_multiplications(hidden: bool) -> list[Case]:
    return _costs("spatial_multiplications", SPATIAL_CASES, hidden, spatial_formula)


# --- transpose_output_size -------------------------------------------------------------------
# (n, kernel_size, strides, padding, output_padding) -> Keras's size, worked by hand.
TRANSPOSE_SIZE_CASES = {
    "public": [
        ((7, 3, 2, "same", None), 14),
        ((7, 3, 2, "valid", None), 15),
        ((7, 3, 2, "same", 0), 13),
        ((7, 3, 2, "valid", 1), 16),
        ((5, 2, 2, "valid", None), 10),
        ((4, 1, 3, "valid", None), 12),
        ((None, 3, 2, "same", None), None),
    ],
    "hidden": [
        ((14, 4, 2, "same", None), 28),
        ((14, 4, 2, "same", 1), 27),
        ((3, 5, 1, "valid", None), 7),
        ((3, 5, 1, "same", 0), 3),
        ((6, 3, 3, "same", 2), 18),
        ((6, 3, 3, "valid", 2), 20),
        ((1, 4, 2, "valid", None), 4),
        ((9, 2, 3, "valid", 0), 26),
    ],
}


def _draw_size_call(rng, unknown=False):
    k, s = int(rng.integers(1, 8)), int(rng.integers(1, 5))
    padding = ("valid", "same")[int(rng.integers(2))]
    output_padding = None if rng.integers(2) else int(rng.integers(0, s))
    n = None if unknown and rng.integers(8) == 0 else int(rng.integers(1, 200))
    return (n, k, s, padding, output_padding)


def _redraw_size_call(rng, call):
    """A fresh call with the same padding, whether output_padding is given, and n None."""
    n, k, s, padding, output_padding = call
    while True:
        fresh = _draw_size_call(rng)
        if (fresh[4] is None) == (output_padding is None) and (s > 1) == (fresh[2] > 1):
            return (None if n is None else fresh[0], fresh[1], fresh[2], padding, fresh[4])


def transpose_output_size(hidden: bool) -> list[Case]:
    rows = TRANSPOSE_SIZE_CASES["hidden" if hidden else "public"]
    if cases.drawing():
        rng = cases.generator()
        calls = [_redraw_size_call(rng, args) for args, _ in rows]
        calls = cases.pick(calls, lambda g: _draw_size_call(g, True), 4 if hidden else 0)
        rows = [(args, catalogue.transpose_size(*args)) for args in calls]
    text = "transpose_output_size({}, {}, strides={}, padding={!r}, output_padding={})"
    return [Case(args, answer, text.format(*args)) for args, answer in rows]


# --- depthwise_conv --------------------------------------------------------------------------
# (input shape, (kh, kw, depth_multiplier), strides, padding, dilation_rate, seed).
DEPTHWISE_CASES = {
    "public": [
        ((1, 5, 5, 1), (3, 3, 1), (1, 1), "valid", (1, 1), 1),
        ((2, 6, 7, 3), (3, 2, 2), (1, 1), "valid", (1, 1), 2),
        ((2, 8, 7, 2), (3, 3, 3), (2, 2), "same", (1, 1), 3),
    ],
    "hidden": [
        ((1, 9, 8, 4), (2, 3, 1), (1, 1), "same", (2, 3), 4),
        ((3, 7, 9, 2), (4, 2, 2), (3, 2), "same", (1, 1), 5),
        ((1, 6, 6, 5), (1, 1, 3), (1, 1), "valid", (1, 1), 6),
        ((2, 10, 5, 3), (5, 3, 2), (2, 1), "valid", (1, 1), 7),
    ],
}

DEPTHWISE_TOL = Tolerance(1e-4, 1e-4, "float32 sums of at most 25 products, in another order")
TRANSPOSE_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of at most 5 * 5 * 4 products (each output gets few taps)"
)
LAYER_TOL = Tolerance(1e-4, 1e-4, "float32 sums of up to 150 products, in another order than Keras")
# <conv(z), x> is a float64 sum of up to a few thousand products of float32 values of size
# ~3: the student's float32 rounding (about 1e-7 relative per output) adds up to ~1e-4.
ADJOINT_TOL = Tolerance(1e-3, 1e-4, "float64 inner products of float32 outputs, ~2000 terms")

DEPTHWISE_ARGUMENTS = ("x", "kernel", "strides", "padding", "dilation_rate")


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored depthwise_conv and conv_transpose cases."""
    arrays = {}
    for kind, table in DEPTHWISE_CASES.items():
        for index, row in enumerate(table):
            x, kernel = _depthwise_values(np.random.default_rng(3000 + row[-1]), row)
            prefix = f"depthwise_conv/{kind}/{index}"
            arrays[f"{prefix}/x"], arrays[f"{prefix}/kernel"] = x, kernel
            out = solution.depthwise_conv(x, kernel, *row[2:5])
            arrays[f"{prefix}/out"] = np.asarray(out)
    for kind, table in TRANSPOSE_CASES.items():
        for index, row in enumerate(table):
            x, kernel = _transpose_values(np.random.default_rng(4000 + row[-1]), row)
            prefix = f"conv_transpose/{kind}/{index}"
            arrays[f"{prefix}/x"], arrays[f"{prefix}/kernel"] = x, kernel
            out = solution.conv_transpose(x, kernel, _sizes(row), row[2], row[3])
            arrays[f"{prefix}/out"] = np.asarray(out)
    return arrays


def _depthwise_values(rng, row):
    shape, (kh, kw, multiplier) = row[0], row[1]
    x = rng.normal(size=shape).astype("float32")
    return x, rng.normal(size=(kh, kw, shape[-1], multiplier)).astype("float32")


def _draw_depthwise(rng):
    kh, kw, multiplier = (int(v) for v in rng.integers(1, 5, size=3))
    steps = tuple(int(v) for v in rng.integers(1, 4, size=2))
    strides, dilation = (steps, (1, 1)) if rng.integers(2) else ((1, 1), steps)
    padding = ("valid", "same")[int(rng.integers(2))]
    spans = (d * (k - 1) + 1 for k, d in zip((kh, kw), dilation, strict=True))
    height, width = (span + int(rng.integers(0, 6)) for span in spans)
    shape = (int(rng.integers(1, 3)), height, width, int(rng.integers(1, 5)))
    return shape, (kh, kw, multiplier), strides, padding, dilation, 0


def depthwise_conv(hidden: bool) -> list[Case]:
    found = []
    for row, (x, kernel), expected in cases.stored_or_fresh(
        ASSIGNMENT,
        f"depthwise_conv/{'hidden' if hidden else 'public'}",
        cases.rows(DEPTHWISE_CASES, hidden, _draw_depthwise, 3),
        ("x", "kernel"),
        _depthwise_values,
        lambda row, x, kernel: catalogue.depthwise(x, kernel, *row[2:5]),
    ):
        strides, padding, dilation = row[2:5]
        b, h, w, c = x.shape
        m = kernel.shape[-1]
        text = (
            f"depthwise_conv(x, kernel, strides={strides}, padding={padding!r}, "
            f"dilation_rate={dilation}), x {x.shape}, kernel {kernel.shape}"
        )
        hint = (
            "shape = (batch, out_h, out_w, C * depth_multiplier), out_h and out_w as for a "
            f"Conv2D with the same kernel_size, strides, padding and dilation_rate; here C * "
            f"depth_multiplier = {c} * {m} = {c * m}"
        )
        found.append(
            Case((x.copy(), kernel.copy(), strides, padding, dilation), expected, text, hint)
        )
    return found


# --- conv_transpose --------------------------------------------------------------------------
# (input shape, (kh, kw, filters), strides, padding, output_padding, seed): the output size
# is Keras's for these arguments. The last has kernels smaller than the strides under 'same':
# the forward convolution then pads nothing, (n - 1) s + k - n s < 0.
TRANSPOSE_CASES = {
    "public": [
        ((1, 3, 3, 1), (2, 2, 1), (2, 2), "valid", None, 1),
        ((2, 3, 4, 3), (3, 3, 2), (2, 2), "valid", None, 2),
        ((1, 4, 3, 2), (3, 3, 2), (2, 2), "same", None, 3),
        ((2, 4, 4, 2), (3, 2, 3), (1, 1), "valid", None, 4),
    ],
    "hidden": [
        ((1, 4, 5, 2), (3, 3, 2), (2, 3), "same", (1, 2), 5),
        ((2, 3, 2, 3), (4, 4, 1), (2, 2), "same", None, 6),
        ((1, 2, 3, 4), (5, 3, 2), (3, 1), "valid", (2, 0), 7),
        ((2, 5, 4, 1), (1, 1, 3), (2, 2), "valid", None, 8),
        ((1, 3, 4, 2), (2, 1, 2), (3, 2), "same", None, 9),
    ],
}


def _sizes(row):
    shape, (kh, kw, _), strides, padding, output_padding = row[:5]
    extra = output_padding or (None, None)
    geometry = zip(shape[1:3], (kh, kw), strides, extra, strict=True)
    return tuple(catalogue.transpose_size(n, k, s, padding, p) for n, k, s, p in geometry)


def _transpose_values(rng, row):
    shape, (kh, kw, filters) = row[0], row[1]
    x = rng.normal(size=shape).astype("float32")
    return x, rng.normal(size=(kh, kw, filters, shape[-1])).astype("float32")


def _draw_transpose(rng):
    """A fresh row; 'same' with output_padding only for odd kernels (see the module's note)."""
    padding = ("valid", "same")[int(rng.integers(2))]
    strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
    with_padding = bool(rng.integers(2))
    if with_padding and padding == "same":
        kh, kw = (int(2 * rng.integers(0, 3) + 1) for _ in range(2))
    else:
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    output_padding = tuple(int(rng.integers(0, s)) for s in strides) if with_padding else None
    shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 6, size=2)))
    shape = (*shape, int(rng.integers(1, 5)))
    return shape, (kh, kw, int(rng.integers(1, 5))), strides, padding, output_padding, 0


def conv_transpose(hidden: bool) -> list[Case]:
    found = []
    for row, (x, kernel), expected in cases.stored_or_fresh(
        ASSIGNMENT,
        f"conv_transpose/{'hidden' if hidden else 'public'}",
        cases.rows(TRANSPOSE_CASES, hidden, _draw_transpose, 3),
        ("x", "kernel"),
        _transpose_values,
        lambda row, x, kernel: catalogue.transpose(x, kernel, _sizes(row), row[2], row[3]),
    ):
        sizes, strides, padding = _sizes(row), row[2], row[3]
        text = (
            f"conv_transpose(x, kernel, output_size={sizes}, strides={strides}, "
            f"padding={padding!r}), x {x.shape}, kernel {kernel.shape}"
        )
        hint = (
            "shape = (batch, *output_size, filters) = "
            f"({x.shape[0]}, {sizes[0]}, {sizes[1]}, {kernel.shape[2]})"
        )
        found.append(Case((x.copy(), kernel.copy(), sizes, strides, padding), expected, text, hint))
    return found


def adjoint(hidden: bool) -> list[tuple]:
    """(x, kernel, output size, strides, padding, z, <forward(z), x>, case text) per case:
    the transposed convolution's rows, new values (and random shapes, hidden) when grading."""
    found = []
    for row in cases.rows(TRANSPOSE_CASES, hidden, _draw_transpose, 3):
        rng = np.random.default_rng(cases.seed(5000 + row[-1]))
        x, kernel = _transpose_values(rng, row)
        sizes, strides, padding = _sizes(row), row[2], row[3]
        z = rng.normal(size=(x.shape[0], *sizes, kernel.shape[2])).astype("float32")
        product = float(np.sum(catalogue.forward(z, kernel, x.shape[1:3], strides, padding) * x))
        text = (
            f"x {x.shape}, kernel {kernel.shape}, output_size={sizes}, strides={strides}, "
            f"padding={padding!r}; y of shape {z.shape}"
        )
        found.append((x, kernel, sizes, strides, padding, z, product, text))
    return found


# --- the layers ------------------------------------------------------------------------------
# DepthwiseConv2D: (input shape, kernel_size, keyword arguments, seed). Strides are equal
# along both axes: TensorFlow's depthwise convolution (hence Keras's) takes no other.
DEPTHWISE_LAYER_CASES = {
    "public": [
        ((2, 7, 6, 3), 3, {}, 1),
        ((2, 8, 8, 2), (3, 2), {"depth_multiplier": 2, "activation": "relu"}, 2),
        ((1, 9, 7, 3), 3, {"strides": 2, "padding": "same", "depth_multiplier": 3}, 3),
        ((2, 6, 6, 4), 2, {"use_bias": False}, 4),
    ],
    "hidden": [
        ((1, 10, 9, 2), (3, 3), {"dilation_rate": 2, "padding": "same"}, 5),
        ((2, 9, 8, 3), (4, 3), {"strides": 3, "depth_multiplier": 2, "activation": "tanh"}, 6),
        ((1, 5, 5, 6), 1, {"depth_multiplier": 4}, 7),
        ((1, 12, 6, 1), (5, 2), {"dilation_rate": (2, 1), "use_bias": False}, 8),
    ],
}
# SeparableConv2D: (input shape, filters, kernel_size, keyword arguments, seed). The first
# has filters = C * depth_multiplier, so that an output without its pointwise step keeps
# the right shape and is named.
SEPARABLE_LAYER_CASES = {
    "public": [
        ((2, 7, 6, 3), 6, 3, {"depth_multiplier": 2}, 11),
        ((2, 8, 8, 2), 5, (3, 2), {"activation": "relu"}, 12),
        ((1, 9, 7, 3), 4, 3, {"strides": 2, "padding": "same", "depth_multiplier": 3}, 13),
        ((2, 6, 6, 4), 2, 2, {"use_bias": False}, 14),
    ],
    "hidden": [
        ((1, 10, 9, 2), 3, (3, 3), {"dilation_rate": 2, "padding": "same"}, 15),
        ((2, 9, 8, 3), 7, (4, 3), {"strides": 3, "depth_multiplier": 2}, 16),
        ((1, 5, 5, 6), 2, 1, {"activation": "sigmoid"}, 17),
        ((1, 8, 8, 3), 1, (2, 2), {"depth_multiplier": 2, "use_bias": False}, 18),
    ],
}
# Conv2DTranspose: (input shape, filters, kernel_size, keyword arguments, seed).
TRANSPOSE_LAYER_CASES = {
    "public": [
        ((2, 4, 4, 1), 2, 3, {"strides": 2}, 21),
        ((2, 4, 5, 3), 3, (3, 2), {"strides": 2, "padding": "same", "activation": "relu"}, 22),
        ((1, 4, 4, 2), 2, 3, {"strides": 2, "output_padding": 1}, 23),
        ((1, 5, 4, 2), 2, 3, {"strides": 2, "padding": "same", "output_padding": 0}, 24),
        ((2, 3, 3, 3), 4, 2, {"use_bias": False}, 25),
    ],
    "hidden": [
        ((1, 3, 4, 2), 3, (4, 4), {"strides": 2, "padding": "same"}, 26),
        ((1, 4, 3, 3), 2, 5, {"strides": (3, 2), "output_padding": (2, 1)}, 27),
        ((2, 3, 3, 4), 1, 1, {"strides": 3, "activation": "tanh"}, 28),
        ((1, 4, 4, 2), 2, 3, {"strides": (2, 3), "padding": "same", "output_padding": (1, 2)}, 29),
        ((1, 6, 5, 1), 3, (2, 3), {"padding": "same"}, 30),
    ],
}

# When grading, hidden layer checks add this many cases drawn at random.
EXTRA_HIDDEN = 3


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _layer_case(name, args, kwargs, shape, weights, hint) -> LayerCase:
    return LayerCase(
        args,
        None,
        f"{describe_call(name, args, kwargs)} on inputs {shape}",
        hint,
        layer_kwargs=kwargs,
        inputs=None,
        weights=weights,
    )


def _draw_layer(rng, filters: bool, transpose=False):
    """A fresh (input shape, [filters,] kernel_size, keyword arguments, 0) row."""
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    kwargs = {"padding": ("valid", "same")[int(rng.integers(2))]}
    kwargs["activation"] = (None, "relu", "tanh")[int(rng.integers(3))]
    kwargs["use_bias"] = bool(rng.integers(4))
    steps = tuple(int(v) for v in rng.integers(1, 4, size=2))
    if transpose:
        kwargs["strides"] = steps
        if rng.integers(2) and (kwargs["padding"] == "valid" or (kh % 2 and kw % 2)):
            kwargs["output_padding"] = tuple(int(rng.integers(0, s)) for s in steps)
        shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 6, size=2)))
    else:
        # TensorFlow's depthwise convolution takes equal strides only
        if rng.integers(2):
            kwargs["strides"] = (steps[0], steps[0])
        else:
            kwargs["dilation_rate"] = steps
        kwargs["depth_multiplier"] = int(rng.integers(1, 4))
        dilation = kwargs.get("dilation_rate", (1, 1))
        spans = (d * (k - 1) + 1 for k, d in zip((kh, kw), dilation, strict=True))
        shape = (int(rng.integers(1, 3)), *(span + int(rng.integers(0, 6)) for span in spans))
    shape = (*shape, int(rng.integers(1, 5)))
    return (
        (shape, int(rng.integers(1, 6)), (kh, kw), kwargs, 0)
        if filters
        else (shape, (kh, kw), kwargs, 0)
    )


def depthwise_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for shape, size, kwargs, seed in cases.rows(
        DEPTHWISE_LAYER_CASES, hidden, lambda g: _draw_layer(g, False), EXTRA_HIDDEN
    ):
        (kh, kw), channels = _pair(size), shape[-1]
        multiplier = kwargs.get("depth_multiplier", 1)
        weights = {"kernel": cases.normal((kh, kw, channels, multiplier), seed + 100)}
        if kwargs.get("use_bias", True):
            weights["bias"] = cases.normal((channels * multiplier,), seed + 200)
        hint = "output shape = (batch, out_h, out_w, C * depth_multiplier), sizes as Conv2D's"
        case = _layer_case("DepthwiseConv2D", (size,), kwargs, shape, weights, hint)
        found.append(_with_inputs(case, cases.normal(shape, seed)))
    return found


def separable_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for shape, filters, size, kwargs, seed in cases.rows(
        SEPARABLE_LAYER_CASES, hidden, lambda g: _draw_layer(g, True), EXTRA_HIDDEN
    ):
        (kh, kw), channels = _pair(size), shape[-1]
        middle = channels * kwargs.get("depth_multiplier", 1)
        weights = {
            "depthwise_kernel": cases.normal((kh, kw, channels, middle // channels), seed + 100),
            "pointwise_kernel": cases.normal((1, 1, middle, filters), seed + 300, scale=0.5),
        }
        if kwargs.get("use_bias", True):
            weights["bias"] = cases.normal((filters,), seed + 200)
        hint = "output shape = (batch, out_h, out_w, filters), sizes as Conv2D's"
        case = _layer_case("SeparableConv2D", (filters, size), kwargs, shape, weights, hint)
        found.append(_with_inputs(case, cases.normal(shape, seed)))
    return found


def transpose_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for shape, filters, size, kwargs, seed in cases.rows(
        TRANSPOSE_LAYER_CASES, hidden, lambda g: _draw_layer(g, True, True), EXTRA_HIDDEN
    ):
        (kh, kw), channels = _pair(size), shape[-1]
        weights = {"kernel": cases.normal((kh, kw, filters, channels), seed + 100)}
        if kwargs.get("use_bias", True):
            weights["bias"] = cases.normal((filters,), seed + 200)
        hint = (
            "each output size is n * s for 'same', n * s + max(k - s, 0) for 'valid'; with "
            "output_padding p, (n - 1) * s + k - 2 * pad + p (pad = k // 2 for 'same', else 0)"
        )
        case = _layer_case("Conv2DTranspose", (filters, size), kwargs, shape, weights, hint)
        found.append(_with_inputs(case, cases.normal(shape, seed)))
    return found


def _with_inputs(case: LayerCase, inputs) -> LayerCase:
    from dataclasses import replace

    return replace(case, inputs=inputs)


# --- a 1x1 convolution is a Dense layer at every pixel ---------------------------------------
# (input shape, units, seed): SeparableConv2D(units, 1) with a depthwise kernel of ones
# against a Dense(units) layer applied to every pixel's channel vector.
POINTWISE_CASES = {
    "public": [((2, 5, 4, 3), 6, 41), ((1, 3, 3, 4), 2, 42)],
    "hidden": [((2, 6, 2, 5), 3, 43), ((1, 1, 1, 4), 2, 44), ((3, 4, 4, 1), 5, 45)],
}


def _draw_pointwise(rng):
    shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 7, size=3)))
    return shape, int(rng.integers(1, 7)), 0


def pointwise(hidden: bool) -> list[LayerCase]:
    found = []
    for shape, units, seed in cases.rows(POINTWISE_CASES, hidden, _draw_pointwise, 2):
        channels = shape[-1]
        x = cases.normal(shape, seed)
        dense_kernel = cases.normal((channels, units), seed + 100)
        bias = cases.normal((units,), seed + 200)
        weights = {
            "depthwise_kernel": np.ones((1, 1, channels, 1), "float32"),
            "pointwise_kernel": dense_kernel.reshape(1, 1, channels, units),
            "bias": bias,
        }
        text = (
            f"SeparableConv2D({units}, 1) with a depthwise kernel of ones on inputs {shape}, "
            f"against Dense({units}) at every pixel"
        )
        expected = x.astype(float) @ dense_kernel.astype(float) + bias
        found.append(
            LayerCase(
                (units, 1),
                expected,
                text,
                "output shape = (batch, H, W, units)",
                inputs=x,
                weights=weights,
            )
        )
    return found
