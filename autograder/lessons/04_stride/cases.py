"""Lesson 04's cases: the tables worked by hand (the tests confirm them against Keras), the
stored im2col cases, tolerances, and how fresh cases are drawn when grading, answered by the
catalogue's right rules. The Conv2D cases, compared with Keras live, are in `conv_cases.py`.
"""

import numpy as np

from ...compare import Tolerance
from ...harness import cases
from ...judge import Case
from . import mistakes as catalogue

ASSIGNMENT = "04_stride"

# (n, kernel_size, strides, padding, dilation_rate) -> expected size, worked by hand.
CONV_OUTPUT_SIZE_CASES = {
    "public": [
        ((28, 5, 1, "same", 1), 28),
        ((28, 5, 2, "same", 1), 14),
        ((14, 4, 2, "same", 1), 7),
        ((7, 3, 2, "valid", 1), 3),
        ((8, 3, 2, "valid", 1), 3),
        ((10, 3, 1, "valid", 2), 6),
        ((5, 3, 2, "full", 1), 4),
        ((None, 3, 2, "same", 1), None),
    ],
    "hidden": [
        ((9, 2, 3, "valid", 1), 3),
        ((9, 2, 3, "same", 1), 3),
        ((10, 2, 3, "same", 1), 4),
        ((32, 3, 1, "same", 4), 32),
        ((32, 3, 1, "valid", 4), 24),
        ((6, 4, 4, "valid", 1), 1),
        ((7, 1, 2, "valid", 1), 4),
        ((6, 3, 1, "full", 2), 10),
        ((11, 5, 3, "full", 1), 5),
        ((1, 3, 2, "same", 1), 1),
        ((None, 3, 1, "valid", 1), None),
    ],
}
# (n, kernel_size, strides, padding, dilation_rate) -> TensorFlow's (before, after).
PADDING_AMOUNTS_CASES = {
    "public": [
        ((8, 3, 2, "same", 1), (0, 1)),
        ((7, 3, 2, "same", 1), (1, 1)),
        ((28, 5, 2, "same", 1), (1, 2)),
        ((14, 4, 2, "same", 1), (1, 1)),
        ((10, 3, 1, "same", 2), (2, 2)),
        ((9, 3, 2, "valid", 1), (0, 0)),
        ((6, 3, 1, "full", 2), (4, 4)),
    ],
    "hidden": [
        ((10, 2, 3, "same", 1), (0, 1)),
        ((9, 2, 3, "same", 1), (0, 0)),
        ((5, 1, 4, "same", 1), (0, 0)),
        ((12, 5, 3, "same", 1), (1, 1)),
        ((6, 4, 1, "same", 3), (4, 5)),
        ((1, 3, 2, "same", 1), (1, 1)),
        ((8, 2, 2, "full", 1), (1, 1)),
    ],
}
# (input shape, kernel size, strides, dilation, seed) of the stored im2col cases.
IM2COL_CASES = {
    "public": [
        ((1, 7, 7, 1), (3, 3), (2, 2), (1, 1), 1),
        ((2, 9, 8, 2), (2, 3), (1, 1), (2, 2), 2),
        ((2, 8, 10, 3), (3, 2), (3, 2), (1, 1), 3),
    ],
    "hidden": [
        ((1, 10, 9, 2), (3, 3), (1, 1), (3, 2), 4),
        ((2, 6, 6, 1), (2, 2), (2, 2), (1, 1), 5),
        ((1, 11, 5, 3), (4, 1), (3, 1), (1, 1), 6),
        ((3, 5, 9, 2), (1, 3), (1, 1), (1, 4), 7),
        ((1, 4, 4, 4), (4, 4), (3, 3), (1, 1), 8),
    ],
}
# stack of (kernel_size, stride, dilation) -> receptive field, worked by hand.
RECEPTIVE_FIELD_CASES = {
    "public": [
        ([(3, 1, 1)], 3),
        ([(3, 1, 1), (3, 1, 1), (3, 1, 1)], 7),
        ([(5, 1, 1), (5, 2, 1), (4, 2, 1)], 15),
        ([(3, 2, 1), (3, 2, 1), (3, 2, 1)], 15),
        ([(3, 1, 1), (3, 1, 2), (3, 1, 4)], 15),
        ([(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1)], 10),
        ([], 1),
    ],
    "hidden": [
        ([(7, 2, 1), (3, 2, 1)], 11),
        ([(3, 1, 2), (3, 1, 2), (3, 1, 2)], 13),
        ([(1, 2, 1), (3, 1, 1)], 5),
        ([(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)], 16),
        ([(4, 4, 1), (3, 1, 3)], 28),
        ([(2, 2, 1)], 2),
    ],
}
# The lecture's network for 28x28 digits: Conv2D(filters, kernel, strides), all "same".
DIGIT_CONVS = ((4, 5, 1), (8, 5, 2), (12, 4, 2))
DIGIT_UNITS = (3136, 1568, 588, 200, 10)
DIGIT_PARAMETERS = (104, 808, 1548, 117800, 2010)

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4

IM2COL_TOL = Tolerance(0.0, 0.0, "im2col only copies values")
SIZE_FORMULA = "floor((n + p - d(k - 1) - 1) / s) + 1, with ceil(n / s) for 'same'"

# The oracles of fresh cases: the right rules of the catalogue.
expected_padding = catalogue.amounts
expected_field = catalogue.field
expected_windows = catalogue.patches


def expected_size(n, k, s=1, mode="valid", d=1):
    """TensorFlow's output size along one axis (None for None); 'full' pads d(k - 1) a side."""
    return None if n is None else catalogue.output_size(n, k, s, mode, d)


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored im2col cases, from `solution`."""
    arrays = {}
    for kind, table in IM2COL_CASES.items():
        for index, (x_shape, size, strides, dilation, seed) in enumerate(table):
            x = np.random.default_rng(2000 + seed).normal(size=x_shape).astype("float32")
            prefix = f"im2col/{kind}/{index}"
            arrays[f"{prefix}/x"] = x
            arrays[f"{prefix}/out"] = np.asarray(solution.im2col(x, size, strides, dilation))
    return arrays


# --- sizes and padding amounts -----------------------------------------------------------------


def character(args):
    """What a (n, k, s, mode, d) case tests: its mode, which of k, s, d exceed 1, whether the
    input is narrower than the kernel, how the sizes round, and the kind of 'same' total."""
    n, k, s, mode, d = args
    if n is None:
        return (mode, None)
    span = d * (k - 1) + 1
    total = sum(expected_padding(n, k, s, mode, d))
    rounding = (n % s == 0, (n + total - span) % s == 0)
    same_total = (total % 2, total == 0, total == span - 1)
    return (mode, k > 1, s > 1, d > 1, n < span, *rounding, *same_total)


def redraw_geometry(rng, args, tries=10_000):
    """A fresh (n, k, s, mode, d) of the same character as `args`, n up to 512 (None stays
    None); `args` itself in the unlikely case that no draw matches."""
    n, k, s, mode, d = args
    wanted = character(args)
    for _ in range(tries):
        k2 = 1 if k == 1 else int(rng.integers(2, 13))
        s2 = 1 if s == 1 else int(rng.integers(2, 9))
        d2 = 1 if d == 1 else int(rng.integers(2, 7))
        span = d2 * (k2 - 1) + 1
        if n is None:
            return (None, k2, s2, mode, d2)
        n2 = int(rng.integers(1, span)) if n < d * (k - 1) + 1 else int(rng.integers(span, 513))
        fresh = (n2, k2, s2, mode, d2)
        if character(fresh) == wanted:
            return fresh
    return args


def draw_geometry(rng, unknown=False):
    """A random (n, k, s, mode, d): strides or dilation, n None sometimes when `unknown`."""
    mode = ("valid", "same", "full")[int(rng.integers(3))]
    k, s = int(rng.integers(1, 13)), int(rng.integers(1, 9))
    d = 1 if s > 1 else int(rng.integers(1, 7))
    span = d * (k - 1) + 1
    n = int(rng.integers(span if mode == "valid" else 1, 513))
    return (None if unknown and rng.integers(8) == 0 else n, k, s, mode, d)


def _geometry(name, table, hidden, oracle, unknown=False) -> list[Case]:
    """The stored cases of `table`; when grading, redrawn by character, plus random (hidden)."""
    rows = table["hidden" if hidden else "public"]
    if cases.drawing():
        rng = cases.generator()
        calls = [redraw_geometry(rng, args) for args, _ in rows]
        draw = lambda g: draw_geometry(g, unknown)  # noqa: E731
        calls = cases.pick(calls, draw, EXTRA_HIDDEN if hidden else 0)
        rows = [(args, oracle(*args)) for args in calls]
    text = "{}({}, {}, strides={}, padding={!r}, dilation_rate={})"
    return [Case(args, answer, text.format(name, *args)) for args, answer in rows]


def conv_output_size(hidden: bool) -> list[Case]:
    return _geometry("conv_output_size", CONV_OUTPUT_SIZE_CASES, hidden, expected_size, True)


def padding_amounts(hidden: bool) -> list[Case]:
    return _geometry("padding_amounts", PADDING_AMOUNTS_CASES, hidden, expected_padding)


# --- im2col ------------------------------------------------------------------------------------


def _draw_im2col_case(rng):
    """A fresh (input shape, kernel size, strides, dilation) with strides or dilation."""
    size = tuple(int(k) for k in rng.integers(1, 5, size=2))
    steps = tuple(int(v) for v in rng.integers(1, 4, size=2))
    strides, dilation = (steps, (1, 1)) if rng.integers(2) else ((1, 1), steps)
    height, width = (
        d * (k - 1) + 1 + int(rng.integers(0, 7)) for k, d in zip(size, dilation, strict=True)
    )
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    return shape, size, strides, dilation


def im2col(hidden: bool) -> list[Case]:
    """The stored inputs and windows; when grading, fresh ones (more, hidden) from NumPy."""
    found = []
    for (_, size, strides, dilation, *_), (x,), expected in cases.stored_or_fresh(
        ASSIGNMENT,
        f"im2col/{'hidden' if hidden else 'public'}",
        cases.rows(IM2COL_CASES, hidden, _draw_im2col_case, EXTRA_HIDDEN),
        ("x",),
        lambda rng, row: (rng.normal(size=row[0]).astype("float32"),),
        lambda row, x: expected_windows(x, *row[1:4]),
    ):
        (b, h, w, c), (kh, kw), (sh, sw), (dh, dw) = x.shape, size, strides, dilation
        hint = (
            "shape = (batch, floor((H - dh (kh - 1) - 1) / sh) + 1, "
            "floor((W - dw (kw - 1) - 1) / sw) + 1, kh kw C) = "
            f"({b}, floor(({h} - {dh * (kh - 1)} - 1) / {sh}) + 1, "
            f"floor(({w} - {dw * (kw - 1)} - 1) / {sw}) + 1, {kh * kw * c}) = {expected.shape}"
        )
        text = f"im2col(x, {size}, strides={strides}, dilation_rate={dilation}), x {x.shape}"
        found.append(Case((x.copy(), size, strides, dilation), expected, text, hint))
    return found


# --- receptive_field ---------------------------------------------------------------------------


def redraw_layer(rng, layer):
    """A fresh (k, s, d) with the same entries above 1 as `layer`."""
    return tuple(
        1 if v == 1 else int(rng.integers(2, top)) for v, top in zip(layer, (10, 5, 5), strict=True)
    )


def draw_layer(rng):
    k, s = int(rng.integers(1, 10)), int(rng.integers(1, 5))
    return (k, s, 1 if s > 1 else int(rng.integers(1, 5)))


def receptive_field(hidden: bool) -> list[Case]:
    """The stored stacks; when grading, redrawn layer by layer, plus random stacks (hidden)."""
    rows = RECEPTIVE_FIELD_CASES["hidden" if hidden else "public"]
    if cases.drawing():
        rng = cases.generator()
        stacks = [[redraw_layer(rng, layer) for layer in stack] for stack, _ in rows]
        draw = lambda g: [draw_layer(g) for _ in range(int(g.integers(1, 6)))]  # noqa: E731
        stacks = cases.pick(stacks, draw, EXTRA_HIDDEN if hidden else 0)
        rows = [(stack, expected_field(stack)) for stack in stacks]
    return [Case((list(stack),), answer, f"receptive_field({stack})") for stack, answer in rows]


# --- the lecture's network ---------------------------------------------------------------------


def digit_table(scale=1):
    """(hidden units, parameters) per layer of `checks.digit_network(Conv2D, scale)`."""
    units, parameters = [], []
    size, channels = 28, 1
    for filters, k, stride in DIGIT_CONVS:
        filters, size = filters * scale, -(-size // stride)
        units.append(size * size * filters)
        parameters.append(k * k * channels * filters + filters)
        channels = filters
    flat = units[-1]
    units += [200, 10]
    parameters += [flat * 200 + 200, 200 * 10 + 10]
    return tuple(units), tuple(parameters)


def digit_case():
    """(scale, case text, units, parameters): the lecture's network, or when grading the same
    network with every filter count times a whole number, so that its table is not the
    lecture's."""
    if not cases.drawing():
        return 1, "", DIGIT_UNITS, DIGIT_PARAMETERS
    scale = int(cases.generator().integers(2, 5))
    text = f"the lecture's digit network with every filter count times {scale}"
    return scale, text, *digit_table(scale)
