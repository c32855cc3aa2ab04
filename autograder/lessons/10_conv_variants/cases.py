"""Lesson 10's array cases: Keras's sizes of transposed convolutions worked by hand, the stored
depthwise and transposed convolutions, tolerances, and how fresh cases are drawn when grading:
new values for every array case, random shapes added to the hidden checks. The costs are in
`cost_cases.py`, the layers compared with Keras live in `layer_cases.py`.

Keras's Conv2DTranspose fails in oneDNN on some CPUs for 'same' padding with an even kernel
and output_padding 0 along that axis: no case and no draw asks Keras for that.
"""

import numpy as np

from ...compare import Tolerance
from ...harness import cases
from ...judge import Case
from . import mistakes as catalogue

ASSIGNMENT = "10_conv_variants"


def draw_padding(rng) -> str:
    return ("valid", "same")[int(rng.integers(2))]


def draw_reach(rng, kernel_size, dilation) -> tuple[int, int]:
    """A fresh (height, width) that a kernel of `kernel_size` dilated by `dilation` fits."""
    spans = (d * (k - 1) + 1 for k, d in zip(kernel_size, dilation, strict=True))
    return tuple(span + int(rng.integers(0, 6)) for span in spans)


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
    padding = draw_padding(rng)
    output_padding = None if rng.integers(2) else int(rng.integers(0, s))
    n = None if unknown and rng.integers(8) == 0 else int(rng.integers(1, 200))
    return (n, k, s, padding, output_padding)


def _kind(call) -> tuple:
    """What a redrawn call keeps of a stored one: each row of the tables stands for a rule or
    an edge (output_padding 0 is not None, an even kernel under 'same' crops unevenly, a kernel
    smaller than the stride leaves gaps), and a wrong rule that only such a row shows must not
    pass a grading run whose draw happens to miss it."""
    n, k, s, padding, output_padding = call
    given = None if output_padding is None else min(output_padding, 1)
    return (padding, given, k % 2, (k > s) - (k < s), s > 1)


def _redraw_size_call(rng, call):
    """A fresh call of the same kind (`_kind`), with n unknown or 1 where the stored one is."""
    n = call[0]
    while True:
        fresh = _draw_size_call(rng)
        fresh = (fresh[0], fresh[1], fresh[2], call[3], fresh[4])
        if _kind(fresh) == _kind(call):
            return (n if n in (None, 1) else fresh[0], *fresh[1:])


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
# <conv(z), x> is a float64 sum of up to a few thousand products of float32 values of size
# ~3: the student's float32 rounding (about 1e-7 relative per output) adds up to ~1e-4.
ADJOINT_TOL = Tolerance(1e-3, 1e-4, "float64 inner products of float32 outputs, ~2000 terms")

DEPTHWISE_ARGUMENTS = ("x", "kernel", "strides", "padding", "dilation_rate")
# Added to the shape hints of depthwise_conv and the layers built on it.
PER_AXIS = (
    "each axis has its own n, k, s and d: pad it by padding_amounts(n, k, s, padding, d) of "
    "that axis"
)


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
    padding = draw_padding(rng)
    height, width = draw_reach(rng, (kh, kw), dilation)
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
            f"depth_multiplier = {c} * {m} = {c * m}; {PER_AXIS}"
        )
        found.append(
            Case((x.copy(), kernel.copy(), strides, padding, dilation), expected, text, hint)
        )
    return found


# --- conv_transpose --------------------------------------------------------------------------
# (input shape, (kh, kw, filters), strides, padding, output_padding, seed): the output size
# is Keras's for these arguments. The last has kernels smaller than the strides under 'same':
# the forward convolution then pads nothing, (n - 1) s + k - n s < 0. The last hidden one is
# 'same' with output_padding where the crop starts elsewhere than without it (at 1, not at
# (k - s) // 2 = 0, along the height): the first such row starts at 0 either way.
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
        ((1, 5, 4, 2), (3, 3, 2), (2, 2), "same", (0, 1), 10),
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
    padding = draw_padding(rng)
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
