"""Checks of lesson 03 (padding), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Expected outputs come from Keras run live (ZeroPadding2D, Conv2D with "valid" and "same"),
from scipy.signal.correlate2d(mode="full") for "full", and from TensorFlow's documented
rule for the padding amounts. Tolerances are stated next to each check; tests/autograder
prove that correct implementations written in several styles pass them over 20 seeds.
When grading, the checks draw fresh cases (`harness.cases`): new values, new kernel sizes
for padding_amounts, and random shapes added to the hidden checks.

Built-in padding (keras.ops.pad, tf.pad, np.pad, keras.layers.ZeroPadding2D) is refused
inside the student's ZeroPadding2D and Conv2D, and so is a built-in convolution: the
student's Conv2D pads with the student's own ZeroPadding2D. Padding is refused in forward
passes only: TensorFlow computes the gradient of a slice with tf.pad, so backward passes
are guarded against built-in convolutions alone.
"""

import numpy as np

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

PADDING = ForbiddenOps(
    "a built-in padding function",
    PADDING_OPS,
    "add the zeros yourself: make blocks of zeros (ops.zeros_like of a slice of the inputs, "
    "ops.repeat) and join them to the images with ops.concatenate",
)
CONVOLUTION_OR_PADDING = ForbiddenOps(
    "a built-in convolution or padding function",
    CONVOLUTION_OPS + PADDING_OPS,
    "pad with your own ZeroPadding2D, then use im2col and one matmul as in lesson 02",
)


# (input shape, padding, seed) of the ZeroPadding2D cases, compared with Keras live.
ZERO_PADDING_CASES = {
    "public": [
        ((2, 4, 5, 3), 1, 1),
        ((1, 3, 3, 1), (2, 0), 2),
        ((2, 5, 4, 2), ((1, 2), (0, 3)), 3),
    ],
    "hidden": [
        ((3, 2, 6, 4), (0, 2), 4),
        ((1, 6, 2, 1), ((3, 0), (2, 1)), 5),
        ((2, 4, 4, 2), ((0, 1), (1, 0)), 6),
        ((1, 1, 1, 5), 3, 7),
        ((2, 5, 5, 3), (1, (0, 2)), 8),
    ],
}
# (kernel size, mode, expected (before, after)) of padding_amounts, by TensorFlow's rule.
PADDING_AMOUNTS_CASES = {
    "public": [
        (3, "valid", (0, 0)),
        (3, "same", (1, 1)),
        (4, "same", (1, 2)),
        (2, "same", (0, 1)),
        (3, "full", (2, 2)),
        (1, "same", (0, 0)),
    ],
    "hidden": [
        (5, "same", (2, 2)),
        (6, "same", (2, 3)),
        (8, "same", (3, 4)),
        (7, "full", (6, 6)),
        (2, "full", (1, 1)),
        (1, "full", (0, 0)),
        (6, "valid", (0, 0)),
    ],
}
# (input shape, filters, kernel size, padding, use_bias, activation, seed) vs Keras live.
CONV2D_CASES = {
    "public": [
        ((2, 7, 7, 1), 2, 3, "same", True, None, 1),
        ((2, 6, 8, 3), 4, (4, 2), "same", True, "relu", 2),
        ((1, 5, 6, 2), 3, (2, 3), "valid", True, None, 3),
        ((2, 8, 7, 4), 2, 4, "same", False, None, 4),
    ],
    "hidden": [
        ((1, 5, 5, 3), 2, 5, "same", True, None, 5),
        ((2, 9, 4, 2), 3, (6, 1), "same", True, "tanh", 6),
        ((2, 6, 10, 8), 5, (1, 2), "same", True, None, 7),
        ((1, 4, 4, 1), 1, 4, "same", True, "sigmoid", 8),
        ((3, 7, 9, 3), 2, (3, 4), "valid", True, None, 9),
        ((1, 3, 3, 2), 2, 3, "same", True, None, 10),
    ],
}
# (input shape, filters, kernel size, use_bias, seed) of "full" cases vs SciPy.
FULL_CASES = {
    "public": [
        ((1, 4, 4, 1), 1, 2, True, 1),
        ((2, 5, 6, 3), 2, 3, True, 2),
        ((1, 6, 5, 2), 3, (4, 1), False, 3),
    ],
    "hidden": [
        ((2, 3, 7, 2), 2, (2, 5), True, 4),
        ((1, 5, 5, 4), 4, 5, True, 5),
        ((3, 2, 2, 1), 2, 3, True, 6),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4

PAD_TOL = Tolerance(0.0, 0.0, "padding only copies values and adds exact zeros")
CONV2D_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 200 products, in another order than the reference"
)
GRADIENT_TOL = Tolerance(1e-3, 1e-3, "float32 gradients summed over batch and positions")
KERNEL_FORMULA = "(kh, kw, input channels, filters)"


def _fail(headline, mismatch_lines, case, mistake, hint=""):
    details = [f"case: {case}", *mismatch_lines]
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


def _random(shape, seed, scale=1.0):
    """Normal values of `shape` from the stored `seed`, or from a fresh one when grading."""
    rng = np.random.default_rng(cases.seed(seed))
    return rng.normal(scale=scale, size=shape).astype("float32")


# --- ZeroPadding2D -----------------------------------------------------------------------------


def _keras_padded(x, padding):
    import keras

    return np.asarray(keras.layers.ZeroPadding2D(padding)(x))


def _diagnose_zero_padding2d(ZeroPadding2D):
    probes = catalogue.zero_padding2d_probes()
    try:
        outputs = [
            run(
                "ZeroPadding2D",
                make_layer(ZeroPadding2D, (p["padding"],), forbidden=PADDING),
                p["x"],
                forbidden=PADDING,
            )
            for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.ZERO_PADDING2D_VARIANTS)


def check_zero_padding_contract(ZeroPadding2D):
    """Constructor, stored padding, output shape and config behave like Keras's ZeroPadding2D."""
    import keras

    check_signature(
        ZeroPadding2D, keras.layers.ZeroPadding2D, ("padding", "data_format"), forbidden=PADDING
    )
    formula = "(batch, top + H + bottom, left + W + right, C)"
    for padding in (2, (1, 3), ((1, 2), (3, 0)), (0, (2, 1))):
        layer = make_layer(ZeroPadding2D, (padding,), forbidden=PADDING)
        config = run(
            f"ZeroPadding2D({padding!r}).get_config()", layer.get_config, forbidden=PADDING
        )
        stored = config.get("padding")
        try:
            stored = tuple(tuple(int(side) for side in pair) for pair in stored)
        except (TypeError, ValueError):
            pass
        if stored != catalogue.keras_pairs(padding):
            _fail(
                f"ZeroPadding2D({padding!r}) stores padding={stored!r}; expected "
                f"{catalogue.keras_pairs(padding)}.",
                ["get_config()['padding'] must be ((top, bottom), (left, right)), as in Keras"],
                f"ZeroPadding2D({padding!r})",
                _diagnose_zero_padding2d(ZeroPadding2D),
            )
        for shape in ((2, 5, 6, 3), (None, None, 6, 3)):
            expected = keras.layers.ZeroPadding2D(padding).compute_output_shape(shape)
            try:
                check_output_shape(layer, shape, expected, formula, forbidden=PADDING)
            except CheckFailed as failure:
                mistake = _diagnose_zero_padding2d(ZeroPadding2D)
                if mistake is not None:
                    failure.details.append(mistake.feedback())
                raise CheckFailed(failure.headline, failure.details, failure.hint) from None
    layer = make_layer(ZeroPadding2D, (((1, 2), (3, 0)),), forbidden=PADDING)
    check_config_roundtrip(layer, ("padding", "data_format"), forbidden=PADDING)
    symbolic = perform(
        "ZeroPadding2D(((1, 2), (3, 0))) on a symbolic keras.Input((5, 6, 3))",
        "symbolic_output",
        layer,
        (None, 5, 6, 3),
        forbidden=PADDING,
    )
    if tuple(symbolic.shape) != (None, 8, 9, 3):
        raise CheckFailed(
            f"ZeroPadding2D(((1, 2), (3, 0))) on keras.Input((5, 6, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 8, 9, 3).",
            [f"formula: {formula}"],
        )
    passed("ZeroPadding2D has Keras's arguments, stored padding, output shape and config")


def _draw_padding(rng):
    """A padding argument in a form Keras accepts: int, pair, pair of pairs, or mixed."""
    top, bottom, left, right = (int(v) for v in rng.integers(0, 4, size=4))
    forms = (
        top,
        (top, left),
        ((top, bottom), (left, right)),
        (top, (left, right)),
        ((top, bottom), left),
    )
    return forms[int(rng.integers(len(forms)))]


def _draw_zero_padding_case(rng):
    """A fresh (input shape, padding, seed) for grading."""
    height, width = (int(v) for v in rng.integers(1, 7, size=2))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    return shape, _draw_padding(rng), 0


def check_zero_padding(ZeroPadding2D, hidden=False):
    """Outputs equal keras.layers.ZeroPadding2D's for every form of the padding argument."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(
        ZERO_PADDING_CASES[kind], _draw_zero_padding_case, EXTRA_HIDDEN if hidden else 0
    )
    for input_shape, padding, seed in table:
        x = _random(input_shape, seed) + 3.0  # no zeros near the border, so any fill shows
        case = f"ZeroPadding2D({padding!r}) on inputs {input_shape}"
        layer = make_layer(ZeroPadding2D, (padding,), forbidden=PADDING)
        out = run("ZeroPadding2D", layer, x, forbidden=PADDING, case=case)
        mismatch = compare(out, _keras_padded(x, padding), PAD_TOL)
        if mismatch:
            (top, bottom), (left, right) = catalogue.keras_pairs(padding)
            hint = ""
            if mismatch.kind == "shape":
                b, h, w, c = input_shape
                hint = (
                    "output shape = (batch, top + H + bottom, left + W + right, C) = "
                    f"({b}, {top} + {h} + {bottom}, {left} + {w} + {right}, {c})"
                )
            _fail(
                "ZeroPadding2D does not match keras.layers.ZeroPadding2D.",
                mismatch.lines,
                case,
                _diagnose_zero_padding2d(ZeroPadding2D),
                hint,
            )
    passed(f"ZeroPadding2D matches keras.layers.ZeroPadding2D on {len(table)} cases")


# --- padding_amounts ---------------------------------------------------------------------------


def _as_pair_of_ints(value):
    try:
        pair = tuple(int(v) for v in np.asarray(value).reshape(-1))
    except (TypeError, ValueError):
        return None
    return pair if len(pair) == 2 else None


def _diagnose_padding_amounts(fn):
    probes = catalogue.padding_amounts_probes()
    table = []
    for k, mode in probes[0]["calls"]:
        try:
            pair = _as_pair_of_ints(run("padding_amounts", fn, k, mode, forbidden=PADDING))
        except CheckFailed:
            return None
        if pair is None:
            return None
        table.append(pair)
    return first_match([np.array(table, dtype=float)], probes, catalogue.PADDING_AMOUNTS_VARIANTS)


def expected_amounts(k, mode):
    """TensorFlow's (before, after) zeros of a stride-1 convolution with a kernel of size k."""
    total = {"valid": 0, "same": k - 1, "full": 2 * (k - 1)}[mode]
    before = total // 2
    return (before, total - before)


def _redraw_kernel(rng, k):
    """A fresh kernel size up to 99 with the parity of `k` (1 stays 1: nothing to pad)."""
    return 1 if k == 1 else 2 * int(rng.integers(1, 50)) + k % 2


def _draw_amounts_call(rng):
    return int(rng.integers(1, 100)), catalogue.MODES[int(rng.integers(len(catalogue.MODES)))]


def _padding_amounts_cases(kind):
    """(k, mode, expected) of the stored cases; when grading, each with a fresh kernel size
    of the same parity, then random calls (hidden), expected values from the rule."""
    stored = PADDING_AMOUNTS_CASES[kind]
    if not cases.drawing():
        return list(stored)
    rng = cases.generator()
    calls = [(_redraw_kernel(rng, k), mode) for k, mode, _ in stored]
    calls = cases.pick(calls, _draw_amounts_call, EXTRA_HIDDEN if kind == "hidden" else 0)
    return [(k, mode, expected_amounts(k, mode)) for k, mode in calls]


def check_padding_amounts(padding_amounts, hidden=False):
    """(before, after) for 'valid', 'same' (extra zero after, as TensorFlow) and 'full'."""
    kind = "hidden" if hidden else "public"
    table = _padding_amounts_cases(kind)
    for k, mode, expected in table:
        case = f"padding_amounts({k}, {mode!r})"
        got = run("padding_amounts", padding_amounts, k, mode, forbidden=PADDING, case=case)
        if _as_pair_of_ints(got) != expected:
            details = [
                "valid: (0, 0); same: k - 1 zeros in all, (k - 1) // 2 before and the rest "
                "after; full: (k - 1, k - 1)"
            ]
            mistake = _diagnose_padding_amounts(padding_amounts)
            if mistake is not None:
                details.append(mistake.feedback())
            raise CheckFailed(f"{case} returned {got!r}; expected {expected}.", details)
    passed(f"padding_amounts gives TensorFlow's amounts on {len(table)} cases")


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


def _kernel_pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def _student_conv(
    Conv2D,
    input_shape,
    filters,
    size,
    padding,
    use_bias=True,
    activation=None,
    kernel=None,
    bias=None,
):
    """Instantiate and build the student's layer; copy `kernel` and `bias` into it."""
    kwargs = {"padding": padding, "use_bias": use_bias, "activation": activation}
    layer = make_layer(Conv2D, (filters, size), kwargs, forbidden=CONVOLUTION_OR_PADDING)
    build_layer(layer, (None, *input_shape[1:]), forbidden=CONVOLUTION_OR_PADDING)
    if kernel is not None:
        values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
        assign_weights(
            layer,
            values,
            how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"},
            forbidden=CONVOLUTION_OR_PADDING,
        )
    return layer


def _keras_conv(input_shape, filters, size, padding, use_bias, activation, kernel, bias):
    import keras

    layer = keras.layers.Conv2D(
        filters, size, padding=padding, use_bias=use_bias, activation=activation
    )
    layer.build((None, *input_shape[1:]))
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    return layer


def _random_conv_case(input_shape, filters, size, seed):
    kh, kw = _kernel_pair(size)
    x = _random(input_shape, seed)
    kernel = _random((kh, kw, input_shape[-1], filters), seed + 100, scale=0.5)
    bias = _random((filters,), seed + 200)
    return x, kernel, bias


def _diagnose_conv2d(Conv2D):
    probes = catalogue.conv2d_probes()
    outputs = []
    try:
        for p in probes:
            layer = _student_conv(
                Conv2D,
                p["x"].shape,
                2,
                p["kernel_size"],
                p["padding"],
                kernel=p["kernel"],
                bias=p["bias"],
            )
            outputs.append(run("Conv2D", layer, p["x"], forbidden=CONVOLUTION_OR_PADDING))
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.CONV2D_VARIANTS)


def _shape_hint(input_shape, filters, size, padding):
    (kh, kw), (b, h, w, _) = _kernel_pair(size), input_shape
    (top, bottom), (left, right) = (catalogue.amounts(kh, padding), catalogue.amounts(kw, padding))
    return (
        f"output shape = (batch, top + H + bottom - kh + 1, left + W + right - kw + 1, filters) = "
        f"({b}, {top} + {h} + {bottom} - {kh} + 1, {left} + {w} + {right} - {kw} + 1, {filters})"
    )


def check_conv2d_contract(Conv2D):
    """Constructor, weights, output shape for each padding, and config behave like Keras's."""
    import keras

    check_signature(
        Conv2D, keras.layers.Conv2D, SUPPORTED_ARGUMENTS, forbidden=CONVOLUTION_OR_PADDING
    )
    input_shape = (2, 7, 6, 3)
    layer = _student_conv(Conv2D, input_shape, 4, (4, 3), "same")
    expect_weights(
        layer,
        {"kernel": (4, 3, 3, 4), "bias": (4,)},
        how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"},
        forbidden=CONVOLUTION_OR_PADDING,
    )
    formula = "(batch, top + H + bottom - kh + 1, left + W + right - kw + 1, filters)"
    for padding, size in (("valid", (4, 3)), ("same", (4, 3)), ("same", 2), ("full", (2, 3))):
        layer = _student_conv(Conv2D, input_shape, 4, size, padding)
        kh, kw = _kernel_pair(size)
        (top, bottom), (left, right) = (
            catalogue.amounts(kh, padding),
            catalogue.amounts(kw, padding),
        )
        expected = (2, 7 + top + bottom - kh + 1, 6 + left + right - kw + 1, 4)
        call = describe_call("Conv2D", (4, size), {"padding": padding})
        try:
            check_output_shape(
                layer, input_shape, expected, formula, forbidden=CONVOLUTION_OR_PADDING
            )
            check_output_shape(
                layer,
                (None, None, 6, 3),
                (None, None, expected[2], 4),
                formula,
                forbidden=CONVOLUTION_OR_PADDING,
            )
        except CheckFailed as failure:
            details = [f"layer: {call}", *failure.details]
            mistake = _diagnose_conv2d(Conv2D)
            if mistake is not None:
                details.append(mistake.feedback())
            raise CheckFailed(failure.headline, details, failure.hint) from None
    layer = _student_conv(Conv2D, input_shape, 4, (4, 3), "full")
    check_config_roundtrip(
        layer, ("filters", "kernel_size", "padding", "use_bias"), forbidden=CONVOLUTION_OR_PADDING
    )
    symbolic = perform(
        "Conv2D(4, (4, 3), padding='same') on a symbolic keras.Input((7, 6, 3))",
        "symbolic_output",
        Conv2D,
        (None, 7, 6, 3),
        (4, (4, 3)),
        {"padding": "same"},
        forbidden=CONVOLUTION_OR_PADDING,
    )
    if tuple(symbolic.shape) != (None, 7, 6, 4):
        raise CheckFailed(
            f"Conv2D(4, (4, 3), padding='same') on keras.Input((7, 6, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 7, 6, 4).",
            [f"formula: {formula}"],
        )
    passed("Conv2D has Keras's arguments, weights, output shapes and config")


def _draw_input_shape(rng, kh, kw, fit):
    """(batch, H, W, C), with H >= kh and W >= kw when the kernel must `fit`."""
    height, width = (int(v) for v in rng.integers(0, 7, size=2))
    height, width = (height + kh, width + kw) if fit else (height + 1, width + 1)
    return (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 7)))


def _draw_conv2d_case(rng):
    """A fresh ('valid' or 'same') case of CONV2D_CASES's form for grading."""
    kh, kw = (int(k) for k in rng.integers(1, 7, size=2))
    padding = ("valid", "same")[int(rng.integers(2))]
    # 'same' also meets images smaller than the kernel
    shape = _draw_input_shape(rng, kh, kw, fit=padding == "valid")
    activation = (None, "relu", "tanh", "sigmoid")[int(rng.integers(4))]
    return shape, int(rng.integers(1, 7)), (kh, kw), padding, bool(rng.integers(4)), activation, 0


def _draw_full_case(rng):
    """A fresh case of FULL_CASES's form for grading."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    shape = _draw_input_shape(rng, kh, kw, fit=False)
    return shape, int(rng.integers(1, 5)), (kh, kw), bool(rng.integers(4)), 0


def check_conv2d_matches_keras(Conv2D, hidden=False):
    """Outputs equal keras.layers.Conv2D's (copied weights) with 'valid' and 'same' padding."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(CONV2D_CASES[kind], _draw_conv2d_case, EXTRA_HIDDEN if hidden else 0)
    for input_shape, filters, size, padding, use_bias, activation, seed in table:
        x, kernel, bias = _random_conv_case(input_shape, filters, size, seed)
        kwargs = {"padding": padding, "use_bias": use_bias, "activation": activation}
        case = f"{describe_call('Conv2D', (filters, size), kwargs)} on inputs {input_shape}"
        layer = _student_conv(
            Conv2D,
            input_shape,
            filters,
            size,
            padding,
            use_bias,
            activation,
            kernel,
            bias if use_bias else None,
        )
        theirs = _keras_conv(
            input_shape, filters, size, padding, use_bias, activation, kernel, bias
        )
        out = run("Conv2D", layer, x, forbidden=CONVOLUTION_OR_PADDING, case=case)
        mismatch = compare(out, np.asarray(theirs(x)), CONV2D_TOL)
        if mismatch:
            hint = (
                _shape_hint(input_shape, filters, size, padding) if mismatch.kind == "shape" else ""
            )
            _fail(
                "Conv2D does not match keras.layers.Conv2D with the same weights.",
                mismatch.lines,
                case,
                _diagnose_conv2d(Conv2D),
                hint,
            )
    passed(f"Conv2D matches keras.layers.Conv2D on {len(table)} cases")


def full_reference(x, kernel, bias=None):
    """'full' cross-correlation with SciPy, per (input channel, filter) pair, summed; float64."""
    from scipy.signal import correlate2d

    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    batch, _, _, channels = x.shape
    filters = kernel.shape[-1]
    maps = [
        [
            sum(
                correlate2d(x[b, :, :, c], kernel[:, :, c, f], mode="full") for c in range(channels)
            )
            for f in range(filters)
        ]
        for b in range(batch)
    ]
    out = np.moveaxis(np.array(maps), 1, -1)
    return out if bias is None else out + np.asarray(bias, float)


def check_conv2d_full(Conv2D, hidden=False):
    """'full' padding equals scipy.signal.correlate2d(mode='full'), summed over channels."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(FULL_CASES[kind], _draw_full_case, EXTRA_HIDDEN if hidden else 0)
    for input_shape, filters, size, use_bias, seed in table:
        x, kernel, bias = _random_conv_case(input_shape, filters, size, seed)
        kwargs = {"padding": "full", "use_bias": use_bias}
        case = f"{describe_call('Conv2D', (filters, size), kwargs)} on inputs {input_shape}"
        layer = _student_conv(
            Conv2D,
            input_shape,
            filters,
            size,
            "full",
            use_bias,
            None,
            kernel,
            bias if use_bias else None,
        )
        out = run("Conv2D", layer, x, forbidden=CONVOLUTION_OR_PADDING, case=case)
        expected = full_reference(x, kernel, bias if use_bias else None)
        mismatch = compare(out, expected, CONV2D_TOL)
        if mismatch:
            hint = (
                _shape_hint(input_shape, filters, size, "full") if mismatch.kind == "shape" else ""
            )
            _fail(
                "Conv2D(padding='full') does not match scipy.signal.correlate2d(mode='full').",
                mismatch.lines,
                case,
                _diagnose_conv2d(Conv2D),
                hint,
            )
    passed(f"Conv2D(padding='full') matches SciPy on {len(table)} cases")


def check_conv2d_trains(Conv2D):
    """Gradients through 'same' padding with an even kernel equal Keras's."""
    input_shape, filters, size = (3, 6, 5, 2), 3, (4, 2)
    x, kernel, bias = _random_conv_case(input_shape, filters, size, seed=21)
    target = _random((3, 6, 5, 3), seed=22)
    ours = _student_conv(Conv2D, input_shape, filters, size, "same", True, "tanh", kernel, bias)
    theirs = _keras_conv(input_shape, filters, size, "same", True, "tanh", kernel, bias)
    case = "mean squared error of a tanh Conv2D(3, (4, 2), padding='same') on inputs (3, 6, 5, 2)"
    run("Conv2D", ours, x, forbidden=CONVOLUTION_OR_PADDING, case=case)
    try:
        # The backward pass may pad: the gradient of a slice is computed with tf.pad.
        found = perform(
            "the gradient through Conv2D",
            "gradients",
            ours,
            x,
            target=target,
            allow_in_backward=PADDING_OPS,
            forbidden=CONVOLUTION_OR_PADDING,
            case=case,
        )
    except CheckFailed as failure:
        if "gradient registry" not in failure.headline:
            raise
        raise CheckFailed(
            failure.headline,
            ["one operation in your call() has no gradient in TensorFlow"],
            "ops.slice_update is such an operation on the TensorFlow backend; add the zeros "
            "with ops.concatenate instead",
        ) from None
    expected = ops.gradients(theirs, x, target=target)
    ours_grads = {"inputs": found["inputs"], **found["weights"]}
    for name, value in {"inputs": expected["inputs"], **expected["weights"]}.items():
        got = ours_grads.get(name)
        if got is None:
            raise CheckFailed(
                f"No gradient reaches Conv2D.{name}."
                if name != "inputs"
                else "No gradient flows back to the inputs of Conv2D.",
                ["the loss does not depend on it through operations TensorFlow can differentiate"],
                "compute call() with keras.ops on the inputs and self.kernel / self.bias; "
                "converting to NumPy inside call() (or ZeroPadding2D.call()) cuts the gradient",
            )
        mismatch = compare(got, np.asarray(value), GRADIENT_TOL, name=f"d loss / d {name}")
        if mismatch:
            raise CheckFailed(
                f"The gradient with respect to {name} differs from Keras's.",
                [f"case: {case}", *mismatch.lines],
            )
    passed("gradients through Conv2D(padding='same') match Keras's")
