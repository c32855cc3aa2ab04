"""Checks of lesson 04 (stride and dilation), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Expected values: output sizes and padding amounts worked by hand from the formulas (the
tests confirm them against Keras), im2col outputs stored from solutions/, Conv2D outputs and
gradients from keras.layers.Conv2D run live with copied weights, receptive fields worked by
hand, and the digit network's table from the lecture notes (hidden units 3136, 1568, 588,
200, 10; parameters 104, 808, 1548, 117800, 2010).

When grading, the checks draw fresh cases (`harness.cases`): sizes, padding amounts and
receptive fields get new arguments of the same character as the stored ones, their answers
from the formulas (`expected_*`, confirmed against Keras by the tests); im2col gets new
values, its answers from NumPy's sliding windows; Conv2D gets new values; hidden checks add
random cases; the digit network gets a whole multiple of its filters.

Built-in convolution, padding and patch extraction are refused inside the student's code.
As in lesson 03, padding is refused in forward passes only: TensorFlow differentiates a
slice with tf.pad.
"""

from functools import partial

import numpy as np

from ... import references
from ...builtin_ops import CONVOLUTION_OPS, PADDING_OPS
from ...compare import Tolerance, compare
from ...contract import (
    assign_weights,
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    expect_weights,
    make_layer,
)
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases, ops
from ...student import perform, run
from . import mistakes as catalogue

ASSIGNMENT = "04_stride"

PATCH_OPS = (
    "keras.ops.image.extract_patches",
    "tensorflow.image.extract_patches",
    "tensorflow.python.ops.gen_array_ops.extract_image_patches",
)
FORBIDDEN = ForbiddenOps(
    "a built-in convolution, padding or patch extraction",
    CONVOLUTION_OPS + PADDING_OPS + PATCH_OPS,
    "gather the windows yourself with strided slices (x[:, a:b:s, c:d:s, :]) and pad with "
    "the given ZeroPadding2D",
)

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
# (input shape, filters, kernel size, strides, padding, use_bias, activation, seed) vs Keras.
STRIDE_CASES = {
    "public": [
        ((2, 8, 7, 1), 2, 3, 2, "same", True, None, 1),
        ((2, 9, 9, 3), 4, (4, 2), (2, 3), "same", True, "relu", 2),
        ((1, 10, 8, 2), 3, 3, (3, 2), "valid", True, None, 3),
        ((2, 7, 6, 4), 2, 5, 2, "valid", False, None, 4),
    ],
    "hidden": [
        ((1, 12, 12, 3), 2, 3, 4, "same", True, None, 5),
        ((2, 5, 11, 2), 3, (1, 4), (1, 3), "same", True, "tanh", 6),
        ((1, 6, 6, 1), 1, 2, 2, "valid", True, None, 7),
        ((2, 13, 9, 5), 4, (5, 3), (3, 1), "same", True, None, 8),
        ((1, 4, 4, 2), 2, 4, 4, "valid", True, None, 9),
        ((1, 8, 8, 3), 2, 4, 2, "same", True, "relu", 10),
    ],
}
# (input shape, filters, kernel size, dilation_rate, padding, use_bias, activation, seed).
DILATION_CASES = {
    "public": [
        ((2, 9, 8, 1), 2, 3, 2, "valid", True, None, 11),
        ((1, 10, 9, 3), 3, (3, 2), (2, 3), "same", True, "relu", 12),
        ((2, 8, 8, 2), 2, 2, 3, "same", True, None, 13),
    ],
    "hidden": [
        ((1, 12, 7, 2), 2, (2, 3), (4, 1), "valid", True, None, 14),
        ((2, 6, 6, 4), 3, 3, 2, "same", False, "tanh", 15),
        ((1, 11, 11, 1), 1, 4, 3, "same", True, None, 16),
        ((1, 7, 9, 3), 2, (1, 2), (1, 5), "valid", True, None, 17),
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
CONV2D_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 200 products, in another order than Keras"
)
GRADIENT_TOL = Tolerance(1e-3, 1e-3, "float32 gradients summed over batch and positions")
KERNEL_FORMULA = "(kh, kw, input channels, filters)"
SIZE_FORMULA = "floor((n + p - d(k - 1) - 1) / s) + 1, with ceil(n / s) for 'same'"


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


def _with_mistake(details, mistake):
    return [*details, mistake.feedback()] if mistake is not None else list(details)


def _call_text(name, args):
    n, k, s, mode, d = args
    return f"{name}({n}, {k}, strides={s}, padding={mode!r}, dilation_rate={d})"


# --- fresh geometry when grading ----------------------------------------------------------------


def expected_size(n, k, s=1, mode="valid", d=1):
    """TensorFlow's output size along one axis (None for None); 'full' pads d(k - 1) a side."""
    if n is None:
        return None
    span = d * (k - 1) + 1
    if mode == "same":
        return -(-n // s)
    added = 0 if mode == "valid" else 2 * (span - 1)
    return (n + added - span) // s + 1


def expected_padding(n, k, s=1, mode="valid", d=1):
    """TensorFlow's (before, after) zeros along one axis."""
    span = d * (k - 1) + 1
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (span - 1, span - 1)
    total = max((-(-n // s) - 1) * s + span - n, 0)
    return (total // 2, total - total // 2)


def _character(args):
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


def _redraw_geometry(rng, args, tries=10_000):
    """A fresh (n, k, s, mode, d) of the same character as `args`, n up to 512 (None stays
    None); `args` itself in the unlikely case that no draw matches."""
    n, k, s, mode, d = args
    wanted = _character(args)
    for _ in range(tries):
        k2 = 1 if k == 1 else int(rng.integers(2, 13))
        s2 = 1 if s == 1 else int(rng.integers(2, 9))
        d2 = 1 if d == 1 else int(rng.integers(2, 7))
        span = d2 * (k2 - 1) + 1
        if n is None:
            return (None, k2, s2, mode, d2)
        n2 = int(rng.integers(1, span)) if n < d * (k - 1) + 1 else int(rng.integers(span, 513))
        fresh = (n2, k2, s2, mode, d2)
        if _character(fresh) == wanted:
            return fresh
    return args


def _draw_geometry(rng, unknown=False):
    """A random (n, k, s, mode, d): strides or dilation, n None sometimes when `unknown`."""
    mode = ("valid", "same", "full")[int(rng.integers(3))]
    k, s = int(rng.integers(1, 13)), int(rng.integers(1, 9))
    d = 1 if s > 1 else int(rng.integers(1, 7))
    span = d * (k - 1) + 1
    n = int(rng.integers(span if mode == "valid" else 1, 513))
    return (None if unknown and rng.integers(8) == 0 else n, k, s, mode, d)


def _geometry_cases(table, kind, oracle, unknown=False):
    """(args, expected) of a stored table; when grading, each case redrawn with its
    character, then random cases (hidden), the answers from `oracle`."""
    if not cases.drawing():
        return list(table)
    rng = cases.generator()
    calls = [_redraw_geometry(rng, args) for args, _ in table]
    extra = EXTRA_HIDDEN if kind == "hidden" else 0
    calls = cases.pick(calls, lambda g: _draw_geometry(g, unknown), extra)
    return [(args, oracle(*args)) for args in calls]


# --- conv_output_size --------------------------------------------------------------------------


def _table(fn, name, calls, convert):
    """The student's answers to `calls`, converted; None when one of them is unusable."""
    answers = []
    for args in calls:
        try:
            answer = convert(run(name, fn, *args, forbidden=FORBIDDEN))
        except (CheckFailed, TypeError, ValueError):
            return None
        if answer is None:
            return None
        answers.append(answer)
    return np.array(answers, dtype=float)


def _as_int(value):
    if value is None:
        return None
    number = float(np.asarray(value).reshape(()))
    return int(number) if number == int(number) else None


def _diagnose_conv_output_size(fn):
    probes = catalogue.conv_output_size_probes()
    table = _table(fn, "conv_output_size", probes[0]["calls"], _as_int)
    if table is None:
        return None
    return first_match([table], probes, catalogue.CONV_OUTPUT_SIZE_VARIANTS)


def check_conv_output_size(conv_output_size, hidden=False):
    """Sizes from floor((n + p - d(k - 1) - 1) / s) + 1, ceil(n / s) for 'same', None for None."""
    kind = "hidden" if hidden else "public"
    table = _geometry_cases(CONV_OUTPUT_SIZE_CASES[kind], kind, expected_size, unknown=True)
    for args, expected in table:
        call = _call_text("conv_output_size", args)
        got = run("conv_output_size", conv_output_size, *args, forbidden=FORBIDDEN, case=call)
        try:
            same = _as_int(got) == expected and (got is None) == (expected is None)
        except (TypeError, ValueError):
            same = False
        if not same:
            details = [f"formula: {SIZE_FORMULA}"]
            if expected is None:
                details = ["an unknown size (None) stays unknown"]
            raise CheckFailed(
                f"{call} returned {got!r}; expected {expected}.",
                _with_mistake(details, _diagnose_conv_output_size(conv_output_size)),
            )
    passed(f"conv_output_size gives the right size on {len(table)} cases")


# --- padding_amounts ---------------------------------------------------------------------------


def _as_pair(value):
    try:
        pair = tuple(int(v) for v in np.asarray(value).reshape(-1))
    except (TypeError, ValueError):
        return None
    return pair if len(pair) == 2 else None


def _diagnose_padding_amounts(fn):
    probes = catalogue.padding_amounts_probes()
    table = _table(fn, "padding_amounts", probes[0]["calls"], _as_pair)
    if table is None:
        return None
    return first_match([table], probes, catalogue.PADDING_AMOUNTS_VARIANTS)


def check_padding_amounts(padding_amounts, hidden=False):
    """TensorFlow's (before, after) zeros for strided and dilated convolutions."""
    kind = "hidden" if hidden else "public"
    table = _geometry_cases(PADDING_AMOUNTS_CASES[kind], kind, expected_padding)
    for args, expected in table:
        call = _call_text("padding_amounts", args)
        got = run("padding_amounts", padding_amounts, *args, forbidden=FORBIDDEN, case=call)
        if _as_pair(got) != expected:
            n, k, s, _, d = args
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
            details = [
                "'same': total = max((ceil(n / s) - 1) s + d(k - 1) + 1 - n, 0) = "
                f"max(({-(-n // s)} - 1) * {s} + {d * (k - 1) + 1} - {n}, 0) = {total}, "
                "total // 2 before and the rest after",
                "'valid': (0, 0); 'full': (d(k - 1), d(k - 1))",
            ]
            raise CheckFailed(
                f"{call} returned {got!r}; expected {expected}.",
                _with_mistake(details, _diagnose_padding_amounts(padding_amounts)),
            )
    passed(f"padding_amounts gives TensorFlow's padding on {len(table)} cases")


# --- im2col ------------------------------------------------------------------------------------


def _diagnose_im2col(fn):
    probes = catalogue.im2col_probes()
    try:
        outputs = [
            run(
                "im2col",
                fn,
                p["x"],
                p["kernel_size"],
                p["strides"],
                p["dilation_rate"],
                forbidden=FORBIDDEN,
            )
            for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.IM2COL_VARIANTS)


def expected_windows(x, kernel_size, strides, dilation_rate) -> np.ndarray:
    """im2col of strided, dilated windows in (m, n, c) order, from NumPy's sliding windows."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(x), spans, axis=(1, 2))
    # windows: (b, i, j, c, rows of the span, columns of the span) -> taps (b, i, j, m, n, c)
    windows = windows[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(*windows.shape[:3], -1)


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


def _im2col_cases(kind):
    """(x, kernel size, strides, dilation, expected) of the stored cases; when grading, fresh
    values for them and random cases (hidden), expected from NumPy."""
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        for index, (_, size, strides, dilation, _) in enumerate(IM2COL_CASES[kind]):
            prefix = f"im2col/{kind}/{index}"
            yield data[f"{prefix}/x"], size, strides, dilation, data[f"{prefix}/out"]
        return
    rng = cases.generator()
    stored = [case[:4] for case in IM2COL_CASES[kind]]
    for x_shape, size, strides, dilation in cases.pick(
        stored, _draw_im2col_case, EXTRA_HIDDEN if kind == "hidden" else 0
    ):
        x = rng.normal(size=x_shape).astype("float32")
        yield x, size, strides, dilation, expected_windows(x, size, strides, dilation)


def check_im2col(im2col, hidden=False):
    """Windows of strided, dilated convolutions equal the stored references, order (m, n, c)."""
    kind = "hidden" if hidden else "public"
    count = 0
    for x, size, strides, dilation, expected in _im2col_cases(kind):
        count += 1
        x_shape = x.shape
        case = f"im2col(x, {size}, strides={strides}, dilation_rate={dilation}), x {x_shape}"
        out = run(
            "im2col", im2col, x.copy(), size, strides, dilation, forbidden=FORBIDDEN, case=case
        )
        mismatch = compare(out, expected, IM2COL_TOL)
        if mismatch:
            details = [f"case: {case}", *mismatch.lines]
            hint = ""
            if mismatch.kind == "shape":
                b, h, w, c = x_shape
                (kh, kw), (sh, sw), (dh, dw) = size, strides, dilation
                hint = (
                    "shape = (batch, floor((H - dh (kh - 1) - 1) / sh) + 1, "
                    "floor((W - dw (kw - 1) - 1) / sw) + 1, kh kw C) = "
                    f"({b}, floor(({h} - {dh * (kh - 1)} - 1) / {sh}) + 1, "
                    f"floor(({w} - {dw * (kw - 1)} - 1) / {sw}) + 1, {kh * kw * c}) = "
                    f"{expected.shape}"
                )
            raise CheckFailed(
                "im2col gives the wrong windows.",
                _with_mistake(details, _diagnose_im2col(im2col)),
                hint,
            )
    passed(f"im2col matches the reference on {count} cases")


# --- Conv2D ------------------------------------------------------------------------------------

SUPPORTED_ARGUMENTS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _random(shape, seed, scale=1.0):
    """Normal values of `shape` from the stored `seed`, or from a fresh one when grading."""
    rng = np.random.default_rng(cases.seed(seed))
    return rng.normal(scale=scale, size=shape).astype("float32")


def _random_conv_case(input_shape, filters, size, seed):
    kh, kw = _pair(size)
    x = _random(input_shape, seed)
    kernel = _random((kh, kw, input_shape[-1], filters), seed + 100, scale=0.5)
    bias = _random((filters,), seed + 200)
    return x, kernel, bias


def _student_conv(Conv2D, input_shape, filters, size, kwargs, kernel=None, bias=None):
    """Instantiate and build the student's layer; copy `kernel` and `bias` into it."""
    layer = make_layer(Conv2D, (filters, size), kwargs, forbidden=FORBIDDEN)
    build_layer(layer, (None, *input_shape[1:]), forbidden=FORBIDDEN)
    if kernel is not None:
        values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
        assign_weights(
            layer, values, how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"}, forbidden=FORBIDDEN
        )
    return layer


def _keras_conv(input_shape, filters, size, kwargs, kernel, bias):
    import keras

    layer = keras.layers.Conv2D(filters, size, **kwargs)
    layer.build((None, *input_shape[1:]))
    layer.set_weights([kernel, bias] if kwargs.get("use_bias", True) else [kernel])
    return layer


def _diagnose_conv2d(Conv2D):
    probes = catalogue.conv2d_probes()
    outputs = []
    try:
        for p in probes:
            kwargs = {key: p[key] for key in ("strides", "dilation_rate", "padding")}
            layer = _student_conv(
                Conv2D, p["x"].shape, 2, p["kernel_size"], kwargs, p["kernel"], p["bias"]
            )
            outputs.append(run("Conv2D", layer, p["x"], forbidden=FORBIDDEN))
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.CONV2D_VARIANTS)


def check_conv2d_contract(Conv2D):
    """Constructor, weights, output shapes with strides and dilation, and config, as Keras's."""
    import keras

    check_signature(Conv2D, keras.layers.Conv2D, SUPPORTED_ARGUMENTS, forbidden=FORBIDDEN)
    input_shape = (2, 8, 7, 3)
    layer = _student_conv(Conv2D, input_shape, 4, (3, 2), {"strides": 2})
    expect_weights(
        layer,
        {"kernel": (3, 2, 3, 4), "bias": (4,)},
        how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"},
        forbidden=FORBIDDEN,
    )
    formula = f"(batch, out_h, out_w, filters), each size {SIZE_FORMULA}"
    for size, kwargs in (
        (3, {"strides": 2}),
        ((3, 2), {"strides": (2, 3), "padding": "same"}),
        (3, {"dilation_rate": 2}),
        ((2, 3), {"dilation_rate": (3, 2), "padding": "same"}),
        (4, {"strides": 3, "padding": "same"}),
    ):
        layer = _student_conv(Conv2D, input_shape, 4, size, kwargs)
        keras_layer = keras.layers.Conv2D(4, size, **kwargs)
        try:
            for shape in (input_shape, (None, None, 7, 3)):
                expected = keras_layer.compute_output_shape(shape)
                check_output_shape(layer, shape, expected, formula, forbidden=FORBIDDEN)
        except CheckFailed as failure:
            details = [f"layer: {describe_call('Conv2D', (4, size), kwargs)}", *failure.details]
            raise CheckFailed(failure.headline, details, failure.hint) from None
    layer = _student_conv(Conv2D, input_shape, 4, 3, {"strides": (2, 1), "padding": "same"})
    check_config_roundtrip(
        layer,
        ("filters", "kernel_size", "strides", "padding", "dilation_rate"),
        forbidden=FORBIDDEN,
    )
    symbolic = perform(
        "Conv2D(4, 3, strides=2, padding='same') on a symbolic keras.Input((8, 7, 3))",
        "symbolic_output",
        Conv2D,
        (None, 8, 7, 3),
        (4, 3),
        {"strides": 2, "padding": "same"},
        forbidden=FORBIDDEN,
    )
    if tuple(symbolic.shape) != (None, 4, 4, 4):
        raise CheckFailed(
            "Conv2D(4, 3, strides=2, padding='same') on keras.Input((8, 7, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 4, 4, 4).",
            [f"formula: {formula}"],
        )
    passed("Conv2D has Keras's arguments, weights, output shapes and config")


def _draw_conv2d_case(rng, argument):
    """A fresh case of STRIDE_CASES's (or DILATION_CASES's) form for grading."""
    size = tuple(int(k) for k in rng.integers(1, 6, size=2))
    value = tuple(int(v) for v in rng.integers(1, 5, size=2))
    dilation = value if argument == "dilation_rate" else (1, 1)
    spans = (d * (k - 1) + 1 for k, d in zip(size, dilation, strict=True))
    height, width = (span + int(rng.integers(0, 8)) for span in spans)
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 6)))
    padding = ("valid", "same")[int(rng.integers(2))]
    activation = (None, "relu", "tanh")[int(rng.integers(3))]
    filters, use_bias = int(rng.integers(1, 6)), bool(rng.integers(4))
    return shape, filters, size, value, padding, use_bias, activation, 0


def _check_against_keras(Conv2D, table, hidden, argument, what):
    draw = partial(_draw_conv2d_case, argument=argument)
    table = cases.pick(table, draw, EXTRA_HIDDEN if hidden else 0)
    for input_shape, filters, size, value, padding, use_bias, activation, seed in table:
        x, kernel, bias = _random_conv_case(input_shape, filters, size, seed)
        kwargs = {
            argument: value,
            "padding": padding,
            "use_bias": use_bias,
            "activation": activation,
        }
        case = f"{describe_call('Conv2D', (filters, size), kwargs)} on inputs {input_shape}"
        layer = _student_conv(
            Conv2D, input_shape, filters, size, kwargs, kernel, bias if use_bias else None
        )
        expected = np.asarray(_keras_conv(input_shape, filters, size, kwargs, kernel, bias)(x))
        out = run("Conv2D", layer, x, forbidden=FORBIDDEN, case=case)
        mismatch = compare(out, expected, CONV2D_TOL)
        if mismatch:
            hint = ""
            if mismatch.kind == "shape":
                hint = f"each output size is {SIZE_FORMULA}"
            details = [f"case: {case}", *mismatch.lines]
            raise CheckFailed(
                f"Conv2D with {what} does not match keras.layers.Conv2D with the same weights.",
                _with_mistake(details, _diagnose_conv2d(Conv2D)),
                hint,
            )
    return len(table)


def check_conv2d_strides(Conv2D, hidden=False):
    """Outputs with strides ('valid' and 'same') equal keras.layers.Conv2D's."""
    count = _check_against_keras(
        Conv2D, STRIDE_CASES["hidden" if hidden else "public"], hidden, "strides", "strides"
    )
    passed(f"strided Conv2D matches keras.layers.Conv2D on {count} cases")


def check_conv2d_dilation(Conv2D, hidden=False):
    """Outputs with dilation ('valid' and 'same') equal keras.layers.Conv2D's."""
    count = _check_against_keras(
        Conv2D,
        DILATION_CASES["hidden" if hidden else "public"],
        hidden,
        "dilation_rate",
        "dilation",
    )
    passed(f"dilated Conv2D matches keras.layers.Conv2D on {count} cases")


def check_conv2d_trains(Conv2D):
    """Gradients through a strided and a dilated 'same' Conv2D equal Keras's."""
    train_cases = (
        ((3, 8, 7, 2), 3, 3, {"strides": 2, "padding": "same", "activation": "tanh"}, 31),
        ((2, 7, 8, 2), 2, (3, 2), {"dilation_rate": 2, "padding": "same"}, 32),
    )
    for input_shape, filters, size, kwargs, seed in train_cases:
        x, kernel, bias = _random_conv_case(input_shape, filters, size, seed)
        ours = _student_conv(Conv2D, input_shape, filters, size, kwargs, kernel, bias)
        theirs = _keras_conv(input_shape, filters, size, kwargs, kernel, bias)
        target = _random(theirs.compute_output_shape(input_shape), seed + 1)
        case = f"mean squared error of {describe_call('Conv2D', (filters, size), kwargs)}"
        run("Conv2D", ours, x, forbidden=FORBIDDEN, case=case)
        # The backward pass may pad: TensorFlow differentiates a slice with tf.pad.
        found = perform(
            "the gradient through Conv2D",
            "gradients",
            ours,
            x,
            target=target,
            allow_in_backward=PADDING_OPS,
            forbidden=FORBIDDEN,
            case=case,
        )
        expected = ops.gradients(theirs, x, target=target)
        ours_grads = {"inputs": found["inputs"], **found["weights"]}
        for name, value in {"inputs": expected["inputs"], **expected["weights"]}.items():
            got = ours_grads.get(name)
            if got is None:
                raise CheckFailed(
                    f"No gradient reaches {name} through your Conv2D.",
                    [
                        f"case: {case}",
                        "the loss does not depend on it through operations "
                        "TensorFlow can differentiate",
                    ],
                    "compute call() with keras.ops; converting to NumPy cuts the gradient",
                )
            mismatch = compare(got, np.asarray(value), GRADIENT_TOL, name=f"d loss / d {name}")
            if mismatch:
                raise CheckFailed(
                    f"The gradient with respect to {name} differs from Keras's.",
                    _with_mistake([f"case: {case}", *mismatch.lines], _diagnose_conv2d(Conv2D)),
                )
    passed("gradients through strided and dilated Conv2D match Keras's")


# --- receptive_field ---------------------------------------------------------------------------


def _diagnose_receptive_field(fn):
    probes = catalogue.receptive_field_probes()
    try:
        table = [
            _as_int(run("receptive_field", fn, [tuple(t) for t in stack], forbidden=FORBIDDEN))
            for stack in probes[0]["stacks"]
        ]
    except (CheckFailed, TypeError, ValueError):
        return None
    if None in table:
        return None
    return first_match([np.array(table, float)], probes, catalogue.RECEPTIVE_FIELD_VARIANTS)


def expected_field(stack):
    """r = 1 + sum over layers of d (k - 1) j, j the product of the strides before."""
    field, jump = 1, 1
    for k, s, d in stack:
        field, jump = field + d * (k - 1) * jump, jump * s
    return field


def _redraw_layer(rng, layer):
    """A fresh (k, s, d) with the same entries above 1 as `layer`."""
    k, s, d = layer
    return (
        1 if k == 1 else int(rng.integers(2, 10)),
        1 if s == 1 else int(rng.integers(2, 5)),
        1 if d == 1 else int(rng.integers(2, 5)),
    )


def _draw_layer(rng):
    k, s = int(rng.integers(1, 10)), int(rng.integers(1, 5))
    return (k, s, 1 if s > 1 else int(rng.integers(1, 5)))


def _receptive_field_cases(kind):
    """(stack, expected) of the stored stacks; when grading, each layer redrawn with the
    same entries above 1, then random stacks (hidden), the answers from `expected_field`."""
    stored = RECEPTIVE_FIELD_CASES[kind]
    if not cases.drawing():
        return list(stored)
    rng = cases.generator()
    stacks = [[_redraw_layer(rng, layer) for layer in stack] for stack, _ in stored]

    def draw(g):
        return [_draw_layer(g) for _ in range(int(g.integers(1, 6)))]

    stacks = cases.pick(stacks, draw, EXTRA_HIDDEN if kind == "hidden" else 0)
    return [(stack, expected_field(stack)) for stack in stacks]


def check_receptive_field(receptive_field, hidden=False):
    """Receptive fields of stacks of (kernel_size, stride, dilation) layers, worked by hand."""
    kind = "hidden" if hidden else "public"
    table = _receptive_field_cases(kind)
    for stack, expected in table:
        call = f"receptive_field({stack})"
        got = run("receptive_field", receptive_field, list(stack), forbidden=FORBIDDEN, case=call)
        try:
            same = _as_int(got) == expected
        except (TypeError, ValueError):
            same = False
        if not same:
            details = [
                "r = 1 + sum over layers of d (k - 1) j, where j is the product of the "
                "strides of the layers before"
            ]
            raise CheckFailed(
                f"{call} returned {got!r}; expected {expected}.",
                _with_mistake(details, _diagnose_receptive_field(receptive_field)),
            )
    passed(f"receptive_field is right on {len(table)} stacks")


# --- the lecture's network ---------------------------------------------------------------------


def digit_network(Conv2D, scale=1):
    """The model spec (see `harness.ops`) of the lecture's classifier of 28x28 digits, with
    `Conv2D` (every filter count times `scale`) and Keras's Dense layers.

    The model is built with the functional API: a Sequential model would swallow a
    NotImplementedError of the student's compute_output_shape and stay unbuilt.
    """
    same = {"padding": "same", "activation": "relu"}
    convs = [
        (Conv2D, (filters * scale, size), {"strides": stride, **same})
        for filters, size, stride in DIGIT_CONVS
    ]
    return [
        *convs,
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (200,), {"activation": "relu"}),
        ("keras", "Dense", (10,), {"activation": "softmax"}),
    ]


def digit_table(scale=1):
    """(hidden units, parameters) per layer of `digit_network(Conv2D, scale)`, by formula."""
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


def _digit_case():
    """(scale, case text): the lecture's network, or when grading the same network with
    every filter count times a whole number, so that its table is not the lecture's."""
    if not cases.drawing():
        return 1, ""
    scale = int(cases.generator().integers(2, 5))
    return scale, f"the lecture's digit network with every filter count times {scale}"


def _units(shape):
    try:
        return int(np.prod([int(d) for d in shape[1:]]))
    except (TypeError, ValueError):
        return None


def check_digit_network(Conv2D):
    """Hidden units and parameters per layer of the lecture's network, built with Conv2D."""
    scale, case = _digit_case()
    expected_units, expected_parameters = (
        digit_table(scale) if case else (DIGIT_UNITS, DIGIT_PARAMETERS)
    )
    summary = perform(
        "building the digit network with your Conv2D",
        "model_summary",
        digit_network(Conv2D, scale),
        (None, 28, 28, 1),
        forbidden=FORBIDDEN,
        case=case,
    )
    layers = [entry for entry in summary if entry["params"]]
    units = [_units(entry["output_shape"]) for entry in layers]
    parameters = [entry["params"] for entry in layers]
    if units != list(expected_units) or parameters != list(expected_parameters):
        rows = [
            f"layer {i + 1}: {u} hidden units (expected {eu}), {p} parameters (expected {ep})"
            for i, (u, eu, p, ep) in enumerate(
                zip(units, expected_units, parameters, expected_parameters, strict=False)
            )
        ]
        f1, f2, f3 = (filters * scale for filters, _, _ in DIGIT_CONVS)
        raise CheckFailed(
            "The lecture's digit network built with your Conv2D has the wrong sizes.",
            [
                *([f"case: {case}"] if case else []),
                f"Conv2D({f1}, 5, strides=1), Conv2D({f2}, 5, strides=2), "
                f"Conv2D({f3}, 4, strides=2), all padding='same', then Dense(200) and "
                "Dense(10) on 28x28x1 digits",
                *rows,
            ],
            "with 'same' padding each size is ceil(n / s): 28 -> 28 -> 14 -> 7; the sizes come "
            "from your compute_output_shape",
        )
    name = case or "the lecture's digit network"
    passed(
        f"{name}: hidden units {', '.join(map(str, units))}; "
        f"parameters {', '.join(map(str, parameters))}"
    )
