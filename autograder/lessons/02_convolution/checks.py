"""Checks of lesson 02 (convolution), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Tolerances are stated next to each check; tests/autograder prove that correct
implementations written in several styles pass them over 20 seeds.
"""

import numpy as np

from ... import references
from ...builtin_ops import CONVOLUTION_OPS
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
from ...harness import cases
from ...student import perform, run
from ...training import check_gradients, fit_losses, require_learning
from . import mistakes as catalogue

ASSIGNMENT = "02_convolution"

# What lesson 02 forbids in every graded call.
CONVOLUTION = ForbiddenOps(
    "a built-in convolution",
    CONVOLUTION_OPS,
    "this lesson asks you to compute it yourself from slices, sums and matrix products "
    "(loops, np.einsum, or im2col followed by one matmul)",
)

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


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored cross_correlate2d and im2col cases, from `solution`."""
    arrays = {}
    for kind, table in CROSS_CORRELATE_CASES.items():
        for index, (x_shape, k_shape, seed) in enumerate(table):
            rng = np.random.default_rng(1000 + seed)
            x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
            prefix = f"cross_correlate2d/{kind}/{index}"
            arrays[f"{prefix}/x"], arrays[f"{prefix}/kernel"] = x, kernel
            arrays[f"{prefix}/out"] = np.asarray(solution.cross_correlate2d(x, kernel))
    for kind, table in IM2COL_CASES.items():
        for index, (x_shape, size, seed) in enumerate(table):
            x = np.random.default_rng(1000 + seed).normal(size=x_shape).astype("float32")
            prefix = f"im2col/{kind}/{index}"
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


def _cross_correlate_cases(kind):
    """(x, kernel, expected) of the stored cases; fresh ones when grading."""
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        for index in range(len(CROSS_CORRELATE_CASES[kind])):
            prefix = f"cross_correlate2d/{kind}/{index}"
            yield tuple(data[f"{prefix}/{k}"] for k in ("x", "kernel", "out"))
        return
    rng = cases.generator()
    shapes = [(x_shape, k_shape) for x_shape, k_shape, _ in CROSS_CORRELATE_CASES[kind]]
    for _ in range(EXTRA_HIDDEN if kind == "hidden" else 0):
        x_shape = tuple(int(n) for n in rng.integers(2, 17, size=2))
        shapes.append((x_shape, tuple(int(rng.integers(1, n + 1)) for n in x_shape)))
    for x_shape, k_shape in shapes:
        x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
        yield x, kernel, expected_cross_correlation(x, kernel)


def _im2col_cases(kind):
    """(x, kernel_size, expected) of the stored cases; fresh ones when grading."""
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        for index, (_, size, _) in enumerate(IM2COL_CASES[kind]):
            prefix = f"im2col/{kind}/{index}"
            yield data[f"{prefix}/x"], size, data[f"{prefix}/out"]
        return
    rng = cases.generator()
    shapes = [(x_shape, size) for x_shape, size, _ in IM2COL_CASES[kind]]
    for _ in range(EXTRA_HIDDEN if kind == "hidden" else 0):
        height, width = (int(n) for n in rng.integers(2, 10, size=2))
        x_shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
        size = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        shapes.append((x_shape, size))
    for x_shape, size in shapes:
        x = rng.normal(size=x_shape).astype("float32")
        yield x, size, expected_patches(x, size)


def _fail_with_diagnosis(headline, mismatch, case, mistake, hint=""):
    details = [f"case: {case}", *mismatch.lines]
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


# --- cross_correlate2d -------------------------------------------------------------------------


def _diagnose_cross_correlate2d(fn):
    probes = catalogue.cross_correlate2d_probes()
    try:
        outputs = [
            run("cross_correlate2d", fn, p["x"], p["kernel"], forbidden=CONVOLUTION) for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.CROSS_CORRELATE2D_VARIANTS)


def _hand_example():
    """The worked example, or (when grading) the same example in disguise: both arrays
    transposed or not and scaled by whole numbers, so that only a cross-correlation answers."""
    if not cases.drawing():
        return HAND_X, HAND_KERNEL, HAND_EXPECTED, "the worked 4x4 example"
    rng = cases.generator()
    a, b = (int(v) for v in rng.integers(2, 6, size=2))
    x, kernel, expected = a * HAND_X, b * HAND_KERNEL, a * b * HAND_EXPECTED
    if rng.integers(2):
        x, kernel, expected = x.T, kernel.T, expected.T
        return x, kernel, expected, f"the worked 4x4 example, transposed, times {a} and {b}"
    return x, kernel, expected, f"the worked 4x4 example, image times {a}, kernel times {b}"


def check_hand_example(cross_correlate2d):
    """The lecture's 4x4 image with its 2x2 kernel gives [[7, -2, 5], [4, 1, 3], [-2, 4, 6]]."""
    x, kernel, expected, case = _hand_example()
    out = run("cross_correlate2d", cross_correlate2d, x, kernel, case=case, forbidden=CONVOLUTION)
    mismatch = compare(out, expected, HAND_TOL)
    if mismatch:
        _fail_with_diagnosis(
            "cross_correlate2d does not reproduce the worked example.",
            mismatch,
            case,
            _diagnose_cross_correlate2d(cross_correlate2d),
            "top-left output: 0*(-1) + 3*1 + 2*2 + 0*1 = 7",
        )
    passed("cross_correlate2d reproduces the worked 4x4 example")


def check_cross_correlate2d(cross_correlate2d, hidden=False):
    """Stored reference outputs on random images and kernels (more shapes when hidden)."""
    kind = "hidden" if hidden else "public"
    for x, kernel, expected in _cross_correlate_cases(kind):
        x_shape, k_shape = x.shape, kernel.shape
        case = f"image {x_shape}, kernel {k_shape}"
        out = run(
            "cross_correlate2d",
            cross_correlate2d,
            x.copy(),
            kernel.copy(),
            case=case,
            forbidden=CONVOLUTION,
        )
        mismatch = compare(out, expected, CROSS_CORRELATE_TOL)
        if mismatch:
            formula = (
                f"output shape = (H - kh + 1, W - kw + 1) = "
                f"({x_shape[0]} - {k_shape[0]} + 1, {x_shape[1]} - {k_shape[1]} + 1)"
            )
            hint = formula if mismatch.kind == "shape" else ""
            _fail_with_diagnosis(
                "cross_correlate2d gives the wrong output.",
                mismatch,
                case,
                _diagnose_cross_correlate2d(cross_correlate2d),
                hint,
            )
    passed(f"cross_correlate2d matches the reference on {len(CROSS_CORRELATE_CASES[kind])} cases")


# --- im2col ------------------------------------------------------------------------------------


def _diagnose_im2col(fn):
    probes = catalogue.im2col_probes()
    try:
        outputs = [
            run("im2col", fn, p["x"], p["kernel_size"], forbidden=CONVOLUTION) for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.IM2COL_VARIANTS)


def check_im2col(im2col, hidden=False):
    """Patch matrices equal the stored references, patch order (m, n, c)."""
    kind = "hidden" if hidden else "public"
    for x, size, expected in _im2col_cases(kind):
        x_shape = x.shape
        case = f"input {x_shape}, kernel_size {size}"
        out = run("im2col", im2col, x.copy(), size, case=case, forbidden=CONVOLUTION)
        mismatch = compare(out, expected, IM2COL_TOL)
        if mismatch:
            b, h, w, c = x_shape
            hint = ""
            if mismatch.kind == "shape":
                hint = (
                    f"shape = (batch, H - kh + 1, W - kw + 1, kh * kw * C) = "
                    f"({b}, {h - size[0] + 1}, {w - size[1] + 1}, {size[0] * size[1] * c})"
                )
            _fail_with_diagnosis(
                "im2col gives the wrong patches.", mismatch, case, _diagnose_im2col(im2col), hint
            )
    passed(f"im2col matches the reference on {len(IM2COL_CASES[kind])} cases")


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
KERNEL_FORMULA = "(kh, kw, input channels, filters)"


def _kernel_shape_mistake(input_shape):
    def name(key, found, expected):
        if key != "kernel":
            return None
        return catalogue.kernel_shape_mistake(found, expected, input_shape)

    return name


def _student_conv(
    Conv2D,
    input_shape,
    filters,
    kernel_size,
    use_bias=True,
    activation=None,
    kernel=None,
    bias=None,
):
    """Instantiate and build the student's layer; copy `kernel` and `bias` into it."""
    kwargs = {"use_bias": use_bias, "activation": activation}
    layer = make_layer(Conv2D, (filters, kernel_size), kwargs, forbidden=CONVOLUTION)
    build_layer(layer, (None, *input_shape[1:]), forbidden=CONVOLUTION)
    if kernel is not None:
        values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
        assign_weights(
            layer,
            values,
            how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"},
            shape_mistake=_kernel_shape_mistake(input_shape),
            forbidden=CONVOLUTION,
        )
    return layer


def _keras_conv(input_shape, filters, kernel_size, use_bias, activation, kernel, bias):
    import keras

    layer = keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias, activation=activation)
    layer.build((None, *input_shape[1:]))
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    return layer


def _random_case(input_shape, filters, kernel_size, seed):
    rng = np.random.default_rng(cases.seed(seed))
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    x = rng.normal(size=input_shape).astype("float32")
    kernel = rng.normal(scale=0.5, size=(kh, kw, input_shape[-1], filters)).astype("float32")
    bias = rng.normal(size=(filters,)).astype("float32")
    return x, kernel, bias


def _diagnose_conv2d(Conv2D):
    probes = catalogue.conv2d_probes()
    outputs = []
    try:
        for p in probes:
            layer = _student_conv(Conv2D, p["x"].shape, 4, 3, kernel=p["kernel"], bias=p["bias"])
            outputs.append(run("Conv2D", layer, p["x"], forbidden=CONVOLUTION))
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.CONV2D_VARIANTS)


def _draw_conv2d_case(rng):
    """A fresh (input shape, filters, kernel size, use_bias, activation, seed) for grading."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 8)), kw + int(rng.integers(0, 8)))
    shape = (*shape, int(rng.integers(1, 9)))
    activation = [None, "relu", "tanh", "sigmoid"][int(rng.integers(4))]
    return shape, int(rng.integers(1, 9)), (kh, kw), bool(rng.integers(4)), activation, 0


def check_conv2d_contract(Conv2D):
    """Constructor, weights, output shape and config behave like keras.layers.Conv2D."""
    import keras

    check_signature(Conv2D, keras.layers.Conv2D, SUPPORTED_ARGUMENTS, forbidden=CONVOLUTION)
    input_shape = (2, 9, 8, 3)
    layer = make_layer(Conv2D, (4, (3, 2)), {"activation": "relu"}, forbidden=CONVOLUTION)
    build_layer(layer, (None, *input_shape[1:]), forbidden=CONVOLUTION)
    expect_weights(
        layer,
        {"kernel": (3, 2, 3, 4), "bias": (4,)},
        how={"kernel": KERNEL_FORMULA, "bias": "(filters,)"},
        shape_mistake=_kernel_shape_mistake(input_shape),
        forbidden=CONVOLUTION,
    )
    no_bias = make_layer(Conv2D, (4, 3), {"use_bias": False}, forbidden=CONVOLUTION)
    build_layer(no_bias, (None, *input_shape[1:]), forbidden=CONVOLUTION)
    expect_weights(
        no_bias, {"kernel": (3, 3, 3, 4)}, how={"kernel": KERNEL_FORMULA}, forbidden=CONVOLUTION
    )
    formula = "(batch, H - kh + 1, W - kw + 1, filters)"
    check_output_shape(layer, input_shape, (2, 7, 7, 4), formula, forbidden=CONVOLUTION)
    check_output_shape(
        layer, (None, None, 8, 3), (None, None, 7, 4), formula, forbidden=CONVOLUTION
    )
    check_config_roundtrip(
        layer, ("filters", "kernel_size", "activation", "use_bias"), forbidden=CONVOLUTION
    )
    symbolic = perform(
        "Conv2D on a symbolic keras.Input((9, 8, 3))",
        "symbolic_output",
        Conv2D,
        (None, 9, 8, 3),
        (4, (3, 2)),
        forbidden=CONVOLUTION,
    )
    if tuple(symbolic.shape) != (None, 7, 7, 4):
        raise CheckFailed(
            f"Conv2D on keras.Input((9, 8, 3)) gives shape {tuple(symbolic.shape)}; expected "
            "(None, 7, 7, 4).",
            [f"formula: {formula}"],
        )
    passed("Conv2D has Keras's arguments, weights, output shape and config")


def check_conv2d_matches_keras(Conv2D, hidden=False):
    """Outputs equal keras.layers.Conv2D's with the same (copied) weights."""
    kind = "hidden" if hidden else "public"
    conv_cases = cases.pick(CONV2D_CASES[kind], _draw_conv2d_case, EXTRA_HIDDEN if hidden else 0)
    for input_shape, filters, size, use_bias, activation, seed in conv_cases:
        x, kernel, bias = _random_case(input_shape, filters, size, seed)
        call = describe_call(
            "Conv2D", (filters, size), {"use_bias": use_bias, "activation": activation}
        )
        case = f"{call} on inputs {input_shape}"
        layer = _student_conv(
            Conv2D,
            input_shape,
            filters,
            size,
            use_bias,
            activation,
            kernel,
            bias if use_bias else None,
        )
        expected = _keras_conv(input_shape, filters, size, use_bias, activation, kernel, bias)(x)
        out = run("Conv2D", layer, x, case=case, forbidden=CONVOLUTION)
        mismatch = compare(out, np.asarray(expected), CONV2D_TOL)
        if mismatch:
            kh, kw = (size, size) if isinstance(size, int) else size
            hint = ""
            if mismatch.kind == "shape":
                hint = (
                    f"output shape = (batch, H - kh + 1, W - kw + 1, filters) = ({input_shape[0]}, "
                    f"{input_shape[1] - kh + 1}, {input_shape[2] - kw + 1}, {filters})"
                )
            _fail_with_diagnosis(
                "Conv2D does not match keras.layers.Conv2D with the same weights.",
                mismatch,
                case,
                _diagnose_conv2d(Conv2D),
                hint,
            )
    passed(f"Conv2D matches keras.layers.Conv2D on {len(conv_cases)} cases")


def check_conv2d_trains(Conv2D):
    """Gradients equal Keras's, and a model built on the layer learns (its loss goes down)."""
    input_shape, filters, size = (4, 8, 7, 2), 3, (3, 2)
    x, kernel, bias = _random_case(input_shape, filters, size, seed=21)
    target = np.random.default_rng(cases.seed(22)).normal(size=(4, 6, 6, 3)).astype("float32")
    ours = _student_conv(Conv2D, input_shape, filters, size, True, "tanh", kernel, bias)
    theirs = _keras_conv(input_shape, filters, size, True, "tanh", kernel, bias)
    check_gradients(
        ours,
        theirs,
        x,
        target,
        GRADIENT_TOL,
        "mean squared error of a tanh Conv2D(3, (3, 2)) on inputs (4, 8, 7, 2)",
        name="Conv2D",
        forbidden=CONVOLUTION,
    )

    rng = np.random.default_rng(cases.seed(23))
    inputs = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    labels = (inputs[:, 2:6, 2:6, 0].mean(axis=(1, 2)) > 0).astype("float32")
    spec = [
        (Conv2D, (4, 3), {"activation": "relu"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {"activation": "sigmoid"}),
    ]
    losses = fit_losses(
        "keras.Model.fit with your Conv2D",
        spec,
        (None, 8, 8, 1),
        inputs,
        labels,
        "binary_crossentropy",
        epochs=15,
        batch_size=16,
        forbidden=CONVOLUTION,
    )
    require_learning(losses, "A small model built on your Conv2D does not learn.")
    passed(f"Conv2D trains: gradients match Keras, loss {losses[0]:.3f} -> {losses[-1]:.3f}")
