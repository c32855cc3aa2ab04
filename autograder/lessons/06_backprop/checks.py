"""Checks of lesson 06 (backpropagation), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Expected values come from TensorFlow (`tf.GradientTape` on Keras's own layers with the same
weights), from exact formulas, or from float64 finite differences computed here; never from
the reference solutions. Tolerances are stated next to each check; tests/autograder prove
that correct implementations written in several styles pass them over 20 seeds. When
grading, every check draws fresh cases (`harness.cases`).
"""

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS, POOLING_OPS
from ...compare import Tolerance, compare, to_numpy
from ...contract import assign_weights, build_layer, describe_call, make_layer
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import (
    CONVOLUTION_OP_TYPES,
    PATCH_OP_TYPES,
    POOLING_OP_TYPES,
    ForbiddenOps,
)
from ...harness import cases, ops
from ...student import perform, run
from . import mistakes as catalogue
from . import ops as own_ops

ASSIGNMENT = "06_backprop"

# Automatic differentiation and numerical differentiation: the lesson computes both by hand.
DIFFERENTIATION_OPS = (
    "tensorflow.GradientTape.gradient",
    "tensorflow.GradientTape.jacobian",
    "tensorflow.GradientTape.batch_jacobian",
    "tensorflow.python.eager.imperative_grad.imperative_grad",
    "tensorflow.gradients",
    "tensorflow.python.ops.gradients_util._GradientsHelper",
    "tensorflow.autodiff.ForwardAccumulator.jvp",
    "tensorflow.test.compute_gradient",
    "jax.grad",
    "jax.vjp",
    "scipy.optimize.approx_fprime",
    "scipy.optimize.check_grad",
    "scipy.differentiate.derivative",
    "scipy.differentiate.jacobian",
)
# TensorFlow's own backward passes of convolution and pooling.
BUILTIN_GRADIENT_OPS = (
    "tensorflow.python.ops.gen_nn_ops.conv2d_backprop_filter",
    "tensorflow.python.ops.gen_nn_ops.conv2d_backprop_input",
    "tensorflow.python.ops.nn_ops.conv2d_backprop_filter",
    "tensorflow.compat.v1.nn.conv2d_backprop_filter",
    "tensorflow.compat.v1.nn.conv2d_backprop_input",
    "tensorflow.python.ops.gen_nn_ops.max_pool_grad",
    "tensorflow.python.ops.gen_nn_ops.max_pool_grad_v2",
    "tensorflow.python.ops.gen_nn_ops.max_pool_grad_with_argmax",
    "tensorflow.python.ops.gen_nn_ops.max_pool_grad_grad",
    "tensorflow.python.ops.gen_nn_ops.avg_pool_grad",
)
GRADIENT_OP_TYPES = (
    "MaxPoolGrad",
    "MaxPoolGradV2",
    "MaxPoolGradWithArgmax",
    "MaxPoolGradGrad",
    "MaxPoolGradGradV2",
    "MaxPool3DGrad",
    "AvgPoolGrad",
    "AvgPool3DGrad",
)
BUILTIN_OP_TYPES = CONVOLUTION_OP_TYPES + POOLING_OP_TYPES + PATCH_OP_TYPES + GRADIENT_OP_TYPES

BACKPROP = ForbiddenOps(
    "a built-in convolution, pooling or differentiation",
    (*CONVOLUTION_OPS, *POOLING_OPS, *BUILTIN_GRADIENT_OPS, *DIFFERENTIATION_OPS),
    "this lesson asks you to compute every gradient yourself, from slices, ops.pad, ops.flip, "
    "sums and matrix products (or NumPy): no tf.GradientTape, no built-in convolution, "
    "pooling or gradient op",
    BUILTIN_OP_TYPES,
)
# Keras's training step differentiates with tf.GradientTape, which calls the custom gradient.
TRAINING = ForbiddenOps(
    "a built-in convolution or pooling",
    (*CONVOLUTION_OPS, *POOLING_OPS, *BUILTIN_GRADIENT_OPS),
    BACKPROP.hint,
    BUILTIN_OP_TYPES,
)

# --- worked examples ---------------------------------------------------------------------------

# The lecture's 4x3 input a..l and 2x2 kernel w1..w4 (output 3x2), with numbers.
HAND_CONV_X = np.array([[1, 2, 0], [3, 1, 1], [0, 2, 1], [1, 0, 2]])
HAND_CONV_KERNEL = np.array([[1, -1], [2, 0]])
HAND_CONV_G = np.array([[1, 0], [-1, 2], [0, 1]])
HAND_CONV_GRAD_X = np.array([[1, -1, 0], [1, 3, -2], [-2, 5, -1], [0, 2, 0]])
HAND_CONV_GRAD_KERNEL = np.array([[2, 4], [7, 3]])
HAND_CONV_GRAD_BIAS = np.array([3])
# Lesson 05's 4x4 example pooled 2x2; and windows that tie (zeros, as after a ReLU).
HAND_POOL_X = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 3, 0], [1, 0, 4, 8]])
HAND_POOL_G = np.array([[1, -2], [3, 0.5]])
HAND_POOL_GRAD = np.array([[0, 0, 0, -2], [0, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0.5]])
TIED_POOL_X = np.array([[0, 0, 5, 1], [0, 0, 1, 5]])
TIED_POOL_G = np.array([[2, 3]])
TIED_POOL_GRAD = np.array([[2, 0, 3, 0], [0, 0, 0, 0]])

# --- cases -------------------------------------------------------------------------------------

# (shape of x, eps or None for the default, seed) of the numerical_gradient cases.
NUMERICAL_CASES = {
    "public": [((4,), None, 1), ((3, 5), None, 2), ((2, 3, 2), 0.1, 3)],
    "hidden": [
        ((1,), None, 4),
        ((2, 1, 3, 2), None, 5),
        ((6, 2), 1e-3, 6),
        ((3, 3, 3), 0.05, 7),
        ((5, 4), 0.5, 8),
    ],
}
# (input shape, kernel size, filters, seed) compared with tf.GradientTape on keras Conv2D.
CONV_CASES = {
    "public": [
        ((2, 6, 5, 3), (3, 2), 4, 1),
        ((3, 8, 7, 2), (2, 3), 3, 2),
        ((2, 5, 6, 4), (1, 1), 2, 3),
        ((1, 7, 7, 1), (3, 3), 1, 4),
    ],
    "hidden": [
        ((2, 9, 4, 3), (4, 2), 5, 5),
        ((4, 6, 6, 2), (3, 3), 2, 6),
        ((1, 3, 10, 5), (3, 1), 3, 7),
        ((2, 5, 5, 1), (5, 5), 2, 8),
        ((3, 12, 11, 3), (5, 4), 4, 9),
        ((2, 4, 7, 6), (2, 5), 1, 10),
    ],
}
# (input shape, kernel size, filters, seed) checked with float64 finite differences.
GRADIENT_CHECK_CASES = {
    "public": [((2, 5, 4, 3), (3, 2), 2, 11), ((3, 4, 6, 2), (2, 3), 3, 12)],
    "hidden": [
        ((1, 6, 6, 1), (3, 3), 1, 13),
        ((2, 4, 4, 2), (4, 1), 4, 14),
        ((2, 7, 3, 3), (2, 2), 2, 15),
    ],
}
# (input shape, pool_size, values, seed) compared with tf.GradientTape on keras MaxPooling2D.
# values: "normal" (no ties), "tied" (whole numbers 0..3), "relu" (half of them 0).
POOL_CASES = {
    "public": [
        ((2, 6, 6, 3), 2, "normal", 1),
        ((2, 7, 9, 2), (2, 3), "tied", 2),
        ((1, 8, 8, 4), 4, "relu", 3),
    ],
    "hidden": [
        ((3, 5, 5, 1), 5, "tied", 4),
        ((2, 9, 7, 3), (3, 2), "normal", 5),
        ((2, 10, 11, 2), (2, 2), "relu", 6),
        ((1, 6, 12, 3), (1, 3), "tied", 7),
        ((2, 7, 7, 2), 3, "relu", 8),
        ((4, 4, 6, 5), (4, 1), "normal", 9),
    ],
}
# (input shape, filters, kernel size, activation, use_bias, seed) of the Conv2D layer.
LAYER_CASES = {
    "public": [((2, 7, 6, 3), 4, (3, 2), None, True, 1), ((1, 6, 6, 1), 2, 3, "tanh", True, 2)],
    "hidden": [
        ((3, 5, 8, 2), 3, (2, 4), "relu", True, 3),
        ((2, 6, 6, 4), 1, 1, None, False, 4),
        ((1, 9, 7, 2), 5, (4, 3), "sigmoid", True, 5),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3
DEFAULT_EPS = 1e-5

NUMERICAL_TOL = Tolerance(
    1e-6,
    1e-6,
    "float64 central differences of a cubic are off by rounding (about 1e-9 with eps = 1e-5) "
    "and a * eps^2, which the expected value includes; a one-sided difference is off by "
    "eps / 2 times the second derivative",
)
X_TOL = Tolerance(
    1e-12, 1e-12, "x must hold its own values again (restoring by arithmetic may move the last bit)"
)
HAND_TOL = Tolerance(1e-6, 0.0, "whole numbers, exact up to float rounding")
CONV_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 400 products, in another order than TensorFlow"
)
POOL_TOL = Tolerance(1e-6, 0.0, "each cell receives one upstream value or 0: no rounding")
LAYER_TOL = CONV_TOL
FIT_TOL = Tolerance(
    2e-4, 2e-3, "8 float32 SGD steps of the same model, gradients summed in another order"
)
# Largest relative error |yours - numerical| / (|yours| + |numerical|) (norms over all entries).
RELATIVE_ERROR_LIMIT = 1e-6
RELATIVE_ERROR_REASON = (
    "float64 central differences of this loss (linear in each argument) are exact up to "
    "rounding: a float64 backward pass gets about 1e-10, one that rounds to float32 on the way "
    "about 1e-7, a wrong one more than 1e-2"
)

PARTS = ("grad_x", "grad_kernel", "grad_bias")
VARIANTS = {
    "grad_x": catalogue.GRAD_X_VARIANTS,
    "grad_kernel": catalogue.GRAD_KERNEL_VARIANTS,
    "grad_bias": catalogue.GRAD_BIAS_VARIANTS,
}
RULES = {
    "grad_x": "grad_x = G padded by (kh - 1, kw - 1) on every side, cross-correlated with the "
    "kernel flipped in both spatial axes, its channel axes swapped: shape (B, H, W, C)",
    "grad_kernel": "grad_kernel[m, n, c, f] = sum over b, i, j of x[b, i + m, j + n, c] * "
    "G[b, i, j, f]: shape (kh, kw, C, F)",
    "grad_bias": "grad_bias[f] = sum over b, i, j of G[b, i, j, f]: shape (F,)",
}


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _fail(headline, lines, case, mistake=None, hint=""):
    details = [f"case: {case}", *lines]
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


# --- numerical_gradient ------------------------------------------------------------------------


def expected_numerical_gradient(spec, x, eps) -> np.ndarray:
    """The exact central difference of the cubic test function (`harness.ops.cubic_terms`):
    3 a x^2 + 2 b x + c + 2 (w . x) w, plus a eps^2 from the cubic term."""
    x = np.asarray(x, np.float64)
    a, b, c, w = (np.asarray(spec[key], np.float64) for key in "abcw")
    return 3 * a * x**2 + 2 * b * x + c + 2 * np.sum(w * x) * w + a * eps**2


def _numerical_call(fn, spec, x, eps, case):
    kwargs = {} if eps is None else {"eps": eps}
    return perform(
        "numerical_gradient",
        "numerical_gradient_of",
        fn,
        spec,
        x,
        forbidden=BACKPROP,
        case=case,
        **kwargs,
    )


def _diagnose_numerical(fn):
    probes = catalogue.numerical_gradient_probes()
    try:
        outputs = [_numerical_call(fn, p["spec"], p["x"], p["eps"], "")["gradient"] for p in probes]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.NUMERICAL_GRADIENT_VARIANTS)


def _draw_numerical_case(rng):
    """A fresh (shape, eps, seed): 1 to 4 axes of 1 to 4 entries, the default step or another."""
    shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 5))))
    eps = [None, 1e-4, 1e-2, 0.2][int(rng.integers(4))]
    return shape, eps, 0


def check_numerical_gradient(numerical_gradient, hidden=False):
    """Central differences of cubic test functions, with the default and other steps; x is
    left as it was."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(NUMERICAL_CASES[kind], _draw_numerical_case, EXTRA_HIDDEN if hidden else 0)
    for shape, eps, seed in table:
        rng = np.random.default_rng(cases.seed(100 + seed))
        spec = catalogue.cubic_spec(shape, rng)
        x = rng.normal(size=shape)
        step = "" if eps is None else f", eps={eps:g}"
        case = f"numerical_gradient(f, x{step}), x of shape {shape}, f a cubic polynomial of x"
        result = _numerical_call(numerical_gradient, spec, x, eps, case)
        moved = compare(result["x_after"], x, X_TOL, name="x")
        if moved:
            _fail(
                "numerical_gradient changes x.",
                [*moved.lines, "x must hold its original values when numerical_gradient returns"],
                case,
                catalogue.X_NOT_RESTORED,
            )
        expected = expected_numerical_gradient(spec, x, DEFAULT_EPS if eps is None else eps)
        mismatch = compare(result["gradient"], expected, NUMERICAL_TOL, name="gradient")
        if mismatch:
            hint = ""
            if mismatch.kind == "shape":
                hint = f"the gradient has the shape of x, {shape}: one entry per entry of x"
            else:
                hint = "gradient[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)"
            _fail(
                "numerical_gradient does not give the central difference of f.",
                [*mismatch.lines, f"f was evaluated {result['calls']} times"],
                case,
                _diagnose_numerical(numerical_gradient),
                hint,
            )
    passed(f"numerical_gradient gives central differences on {len(table)} cases and leaves x as is")


# --- conv2d_backward ---------------------------------------------------------------------------


def _as_parts(what, result, case):
    """The three gradients a backward pass returned, as arrays; CheckFailed if they are not."""
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise CheckFailed(
            f"{what} returned {type(result).__name__}"
            + (f" of {len(result)} values" if isinstance(result, tuple | list) else "")
            + "; expected a tuple (grad_x, grad_kernel, grad_bias).",
            [f"case: {case}"],
            "end with: return grad_x, grad_kernel, grad_bias",
        )
    parts = {}
    for name, value in zip(PARTS, result, strict=True):
        try:
            parts[name] = to_numpy(value)
        except Exception:
            raise CheckFailed(
                f"{what} returned a {type(value).__name__} as {name}; expected an array.",
                [f"case: {case}"],
            ) from None
    return parts


def _diagnose_conv(fn, part):
    probes = catalogue.conv_probes()
    try:
        outputs = [
            _as_parts(
                "conv2d_backward",
                run("conv2d_backward", fn, p["x"], p["kernel"], p["g"], forbidden=BACKPROP),
                "",
            )[part]
            for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, VARIANTS[part])


def _shape_hint(part, x_shape, kernel_shape):
    b, h, w, c = x_shape
    kh, kw, _, f = kernel_shape
    shapes = {"grad_x": (b, h, w, c), "grad_kernel": (kh, kw, c, f), "grad_bias": (f,)}
    return f"{part} has the shape of what it is the gradient of: {shapes[part]}; {RULES[part]}"


def _compare_parts(fn, parts, expected, tolerance, case, headline, x_shape, kernel_shape):
    for part in PARTS:
        mismatch = compare(parts[part], expected[part], tolerance, name=part)
        if mismatch:
            hint = RULES[part]
            if mismatch.kind == "shape":
                hint = _shape_hint(part, x_shape, kernel_shape)
            _fail(headline.format(part=part), mismatch.lines, case, _diagnose_conv(fn, part), hint)


def _hand_conv_example():
    """(x, kernel, g, expected parts, words) of the worked example; when grading, in disguise:
    maybe transposed, the three arrays times whole numbers."""
    x, kernel, g = HAND_CONV_X, HAND_CONV_KERNEL, HAND_CONV_G
    gx, gk, gb = HAND_CONV_GRAD_X, HAND_CONV_GRAD_KERNEL, HAND_CONV_GRAD_BIAS
    words = ""
    if cases.drawing():
        rng = cases.generator()
        a, b, c = (int(v) * int(rng.choice([-1, 1])) for v in rng.integers(2, 6, size=3))
        x, kernel, g = a * x, b * kernel, c * g
        gx, gk, gb = b * c * gx, a * c * gk, c * gb
        words = f", input times {a}, kernel times {b}, upstream times {c}"
        if rng.integers(2):
            x, kernel, g, gx, gk = x.T, kernel.T, g.T, gx.T, gk.T
            words = ", transposed" + words
    expected = {
        "grad_x": gx[None, :, :, None],
        "grad_kernel": gk[:, :, None, None],
        "grad_bias": np.asarray(gb, float),
    }
    return x, kernel, g, expected, words


def check_conv2d_backward_hand_example(conv2d_backward):
    """The lecture's 4x3 input with a 2x2 kernel: every gradient worked out by hand."""
    x, kernel, g, expected, words = _hand_conv_example()
    x4 = x[None, :, :, None].astype("float64")
    k4 = kernel[:, :, None, None].astype("float64")
    g4 = g[None, :, :, None].astype("float64")
    case = (
        f"the worked example{words}: x {x.tolist()}, kernel {kernel.tolist()}, upstream "
        f"gradient {g.tolist()} (one image, one channel in and out)"
    )
    result = run("conv2d_backward", conv2d_backward, x4, k4, g4, forbidden=BACKPROP, case=case)
    parts = _as_parts("conv2d_backward", result, case)
    _compare_parts(
        conv2d_backward,
        parts,
        expected,
        HAND_TOL,
        case,
        "conv2d_backward does not reproduce the worked example ({part}).",
        x4.shape,
        k4.shape,
    )
    passed("conv2d_backward reproduces the worked example")


def _conv_arrays(x_shape, size, filters, seed, dtype="float32"):
    rng = np.random.default_rng(cases.seed(200 + seed))
    kh, kw = _pair(size)
    out_shape = (x_shape[0], x_shape[1] - kh + 1, x_shape[2] - kw + 1, filters)
    x = rng.normal(size=x_shape).astype(dtype)
    kernel = rng.normal(scale=0.5, size=(kh, kw, x_shape[3], filters)).astype(dtype)
    bias = rng.normal(size=(filters,)).astype(dtype)
    g = rng.normal(size=out_shape).astype(dtype)
    return x, kernel, bias, g


def keras_conv_gradients(x, kernel, bias, g) -> dict:
    """grad_x, grad_kernel, grad_bias of sum(Conv2D(x) * g) for keras.layers.Conv2D with these
    weights, by tf.GradientTape."""
    import keras

    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2])
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    found = ops.gradients(layer, x, upstream=g)
    weights = found["weights"]
    return {
        "grad_x": np.asarray(found["inputs"]),
        "grad_kernel": np.asarray(weights["kernel"]),
        "grad_bias": np.asarray(weights["bias"]),
    }


def _draw_conv_case(rng):
    """A fresh (input shape, kernel size, filters, seed) within the proven tolerances."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 7)), kw + int(rng.integers(0, 7)))
    return (*shape, int(rng.integers(1, 7))), (kh, kw), int(rng.integers(1, 7)), 0


def check_conv2d_backward_matches_tensorflow(conv2d_backward, hidden=False):
    """grad_x, grad_kernel and grad_bias equal tf.GradientTape's on keras.layers.Conv2D with
    the same weights, for a random upstream gradient (float32)."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(CONV_CASES[kind], _draw_conv_case, EXTRA_HIDDEN if hidden else 0)
    for x_shape, size, filters, seed in table:
        x, kernel, bias, g = _conv_arrays(x_shape, size, filters, seed)
        case = f"x {x.shape}, kernel {kernel.shape}, upstream gradient {g.shape} (random), float32"
        result = run(
            "conv2d_backward", conv2d_backward, x, kernel, g, forbidden=BACKPROP, case=case
        )
        parts = _as_parts("conv2d_backward", result, case)
        _compare_parts(
            conv2d_backward,
            parts,
            keras_conv_gradients(x, kernel, bias, g),
            CONV_TOL,
            case,
            "conv2d_backward's {part} differs from TensorFlow's.",
            x.shape,
            kernel.shape,
        )
    passed(f"conv2d_backward matches tf.GradientTape on keras.layers.Conv2D in {len(table)} cases")


def conv_loss(x, kernel, bias, g) -> float:
    """sum((valid cross-correlation of x with kernel + bias) * g), in float64 NumPy."""
    out = catalogue.correlate(x, kernel) + np.asarray(bias, np.float64)
    return float(np.sum(out * g))


def finite_differences(loss, arrays, which, eps=DEFAULT_EPS) -> np.ndarray:
    """Central differences of loss(*arrays) with respect to arrays[which], entry by entry."""
    arrays = [np.array(a, np.float64) for a in arrays]
    target = arrays[which]
    out = np.zeros(target.shape)
    for index in np.ndindex(target.shape):
        saved = target[index]
        target[index] = saved + eps
        plus = loss(*arrays)
        target[index] = saved - eps
        minus = loss(*arrays)
        target[index] = saved
        out[index] = (plus - minus) / (2 * eps)
    return out


def relative_error(actual, expected) -> float:
    """|actual - expected| / (|actual| + |expected|) with norms over all entries (0 if both 0)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    return 0.0 if scale == 0 else float(np.linalg.norm(actual - expected) / scale)


def _draw_gradient_check_case(rng):
    """A fresh small case (finite differences cost two losses per entry)."""
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 5)), kw + int(rng.integers(0, 5)))
    return (*shape, int(rng.integers(1, 4))), (kh, kw), int(rng.integers(1, 5)), 0


def check_conv2d_backward_gradient_check(conv2d_backward, hidden=False):
    """On float64 inputs, every gradient agrees with float64 central differences of the loss
    to a relative error below RELATIVE_ERROR_LIMIT."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(
        GRADIENT_CHECK_CASES[kind], _draw_gradient_check_case, EXTRA_HIDDEN if hidden else 0
    )
    worst = {part: 0.0 for part in PARTS}
    for x_shape, size, filters, seed in table:
        x, kernel, bias, g = _conv_arrays(x_shape, size, filters, seed, dtype="float64")
        case = (
            f"x {x.shape}, kernel {kernel.shape}, upstream gradient {g.shape} (random), float64; "
            f"loss = sum((conv(x, kernel) + bias) * upstream), central differences with "
            f"eps = {DEFAULT_EPS:g}"
        )
        result = run(
            "conv2d_backward", conv2d_backward, x, kernel, g, forbidden=BACKPROP, case=case
        )
        parts = _as_parts("conv2d_backward", result, case)
        arrays = (x, kernel, bias, g)
        for which, part in enumerate(PARTS):
            numerical = finite_differences(conv_loss, arrays, which)
            mismatch = compare(parts[part], numerical, Tolerance(np.inf, 0.0), name=part)
            if mismatch:  # only a shape or NaN can differ here
                _fail(
                    f"conv2d_backward's {part} does not have the shape of its finite differences.",
                    mismatch.lines,
                    case,
                    _diagnose_conv(conv2d_backward, part),
                    _shape_hint(part, x.shape, kernel.shape),
                )
            error = relative_error(parts[part], numerical)
            worst[part] = max(worst[part], error)
            if not error <= RELATIVE_ERROR_LIMIT:
                where = np.unravel_index(
                    int(np.argmax(np.abs(parts[part] - numerical))), numerical.shape
                )
                where = [int(i) for i in where]
                _fail(
                    f"conv2d_backward's {part} fails the gradient check: relative error "
                    f"{error:.2g}.",
                    [
                        f"relative error |yours - numerical| / (|yours| + |numerical|) = "
                        f"{error:.3g}, expected below {RELATIVE_ERROR_LIMIT:g} "
                        f"({RELATIVE_ERROR_REASON})",
                        f"largest difference at {part}{where}: yours "
                        f"{float(parts[part][tuple(where)]):.6g}, numerical "
                        f"{float(numerical[tuple(where)]):.6g}",
                    ],
                    case,
                    _diagnose_conv(conv2d_backward, part),
                    RULES[part],
                )
    errors = ", ".join(f"{part} {worst[part]:.1e}" for part in PARTS)
    passed(
        f"conv2d_backward passes the float64 gradient check in {len(table)} cases "
        f"(largest relative errors: {errors})"
    )


# --- max_pool_backward -------------------------------------------------------------------------


def _pool_input(shape, values, rng):
    if values == "tied":
        return rng.integers(0, 4, size=shape).astype("float32")
    x = rng.normal(size=shape).astype("float32")
    return np.maximum(x, 0.0) if values == "relu" else x


def keras_max_pool_gradient(x, g, pool_size) -> np.ndarray:
    """d sum(MaxPooling2D(pool_size)(x) * g) / dx by tf.GradientTape on Keras's layer."""
    import keras

    return np.asarray(ops.gradients(keras.layers.MaxPooling2D(pool_size), x, upstream=g)["inputs"])


def _diagnose_pool(fn):
    probes = catalogue.max_pool_probes()
    try:
        outputs = [
            run("max_pool_backward", fn, p["x"], p["g"], p["pool_size"], forbidden=BACKPROP)
            for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.MAX_POOL_VARIANTS)


def _check_pool_case(fn, x, g, pool_size, expected, tolerance, case, headline, hint):
    result = run("max_pool_backward", fn, x, g, pool_size, forbidden=BACKPROP, case=case)
    mismatch = compare(result, expected, tolerance, name="grad_x")
    if mismatch:
        if mismatch.kind == "shape":
            hint = f"the gradient has the shape of x, {x.shape}; uncovered rows and columns get 0"
        _fail(headline, mismatch.lines, case, _diagnose_pool(fn), hint)


ROUTING_RULE = (
    "each window's upstream gradient goes to its maximum only (the first one, row by row, "
    "when several cells tie); all other cells get 0"
)


def _hand_pool_examples():
    """(x, g, expected, words) of the two worked examples; when grading, in disguise:
    maybe transposed, x times a positive whole number plus another, g times a whole number."""
    examples = [
        (HAND_POOL_X, HAND_POOL_G, HAND_POOL_GRAD, "the 4x4 example of lesson 05", ""),
        (TIED_POOL_X, TIED_POOL_G, TIED_POOL_GRAD, "the tied windows", " (zeros, as after a ReLU)"),
    ]
    if not cases.drawing():
        return examples
    rng = cases.generator()
    disguised = []
    for x, g, expected, what, words in examples:
        a, b = int(rng.integers(2, 6)), int(rng.integers(-9, 10))
        c = int(rng.integers(2, 6)) * int(rng.choice([-1, 1]))
        x, g, expected = a * x + b, c * g, c * expected
        words += f", x times {a} plus {b}, upstream times {c}"
        if rng.integers(2):
            x, g, expected = x.T, g.T, expected.T
            words += ", transposed"
        disguised.append((x, g, expected, what, words))
    return disguised


def check_max_pool_backward_hand_example(max_pool_backward):
    """2x2 max pooling of lesson 05's 4x4 example, and of windows whose maxima tie."""
    for x, g, expected, what, words in _hand_pool_examples():
        x4 = x[None, :, :, None].astype("float32")
        g4 = g[None, :, :, None].astype("float32")
        case = f"{what}{words}: x {x.tolist()}, upstream gradient {g.tolist()}, pool_size 2"
        _check_pool_case(
            max_pool_backward,
            x4,
            g4,
            2,
            expected[None, :, :, None],
            HAND_TOL,
            case,
            f"max_pool_backward does not reproduce {what}.",
            f"expected {expected.tolist()}: {ROUTING_RULE}",
        )
    passed("max_pool_backward reproduces the worked examples, ties included")


def _draw_pool_case(rng):
    """A fresh (input shape, pool_size, values, seed): pools up to 5x5, inputs up to 13x13."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    height = kh * int(rng.integers(1, 4)) + int(rng.integers(0, kh))
    width = kw * int(rng.integers(1, 4)) + int(rng.integers(0, kw))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    pool_size = kh if kh == kw and rng.integers(2) else (kh, kw)
    return shape, pool_size, ("normal", "tied", "relu")[int(rng.integers(3))], 0


def check_max_pool_backward_matches_tensorflow(max_pool_backward, hidden=False):
    """The gradient equals tf.GradientTape's on keras.layers.MaxPooling2D, ties included."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(POOL_CASES[kind], _draw_pool_case, EXTRA_HIDDEN if hidden else 0)
    for shape, pool_size, values, seed in table:
        rng = np.random.default_rng(cases.seed(300 + seed))
        x = _pool_input(shape, values, rng)
        kh, kw = _pair(pool_size)
        g = rng.normal(size=(shape[0], shape[1] // kh, shape[2] // kw, shape[3]))
        g = g.astype("float32")
        words = {
            "normal": "random",
            "tied": "whole numbers 0 to 3, many ties",
            "relu": "random, negatives set to 0 (ties)",
        }[values]
        case = f"x {shape} ({words}), upstream gradient {g.shape} (random), pool_size {pool_size}"
        _check_pool_case(
            max_pool_backward,
            x,
            g,
            pool_size,
            keras_max_pool_gradient(x, g, pool_size),
            POOL_TOL,
            case,
            "max_pool_backward differs from TensorFlow's gradient of MaxPooling2D.",
            ROUTING_RULE,
        )
    passed(f"max_pool_backward matches tf.GradientTape on MaxPooling2D in {len(table)} cases")


# --- Conv2D with a custom gradient -------------------------------------------------------------

BACKWARD_NAME = "conv2d_backward"
FACTORS = (2.0, 3.0, 5.0)
VARIABLES_HINT = (
    "pass tensors, not the layer's variables, to the function decorated with "
    "@ops.custom_gradient: TensorFlow refuses variables read inside it. ops.copy(self.kernel) "
    "reads the variable into a tensor (and its gradient still reaches the variable)"
)
LAYER_PART = {"inputs": "grad_x", "kernel": "grad_kernel", "bias": "grad_bias"}


def _layer_kwargs(activation, use_bias):
    kwargs = {}
    if activation is not None:
        kwargs["activation"] = activation
    if not use_bias:
        kwargs["use_bias"] = False
    return kwargs


def _student_layer(Conv2D, x_shape, filters, size, kwargs, kernel, bias):
    layer = make_layer(Conv2D, (filters, size), kwargs, forbidden=BACKPROP)
    build_layer(layer, (None, *x_shape[1:]), forbidden=BACKPROP)
    values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
    assign_weights(layer, values, forbidden=BACKPROP)
    return layer


def _keras_layer(x_shape, filters, size, kwargs, kernel, bias):
    import keras

    layer = keras.layers.Conv2D(filters, size, **kwargs)
    layer.build((None, *x_shape[1:]))
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    return layer


def _probe(layer, call, x, g, factors, case):
    """The layer's output and gradients through backward_probe; CheckFailed with advice when
    the student's code raises."""
    try:
        return perform(
            f"the gradient through {call}",
            "backward_probe",
            layer,
            x,
            g,
            BACKWARD_NAME,
            factors,
            DIFFERENTIATION_OPS,
            forbidden=BACKPROP,
            case=case,
        )
    except CheckFailed as failure:
        if "keyword argument 'variables'" in failure.headline:
            headline = failure.headline.split(":")[0] + "."
            raise CheckFailed(headline, failure.details, VARIABLES_HINT) from None
        raise


def _diagnose_layer(Conv2D):
    probes = catalogue.layer_probes()
    outputs = {part: [] for part in LAYER_PART}
    try:
        for p in probes:
            kernel, bias = p["kernel"].astype("float32"), p["bias"].astype("float32")
            layer = _student_layer(
                Conv2D, p["x"].shape, 4, (3, 2), {"activation": "tanh"}, kernel, bias
            )
            found = _probe(
                layer,
                "Conv2D",
                p["x"].astype("float32"),
                p["upstream"].astype("float32"),
                (1.0, 1.0, 1.0),
                "",
            )
            for part in LAYER_PART:
                value = found["inputs"] if part == "inputs" else found["weights"].get(part)
                outputs[part].append(value)
    except CheckFailed:
        return None
    for part, variants in catalogue.LAYER_VARIANTS.items():
        mistake = first_match(outputs[part], probes, variants)
        if mistake is not None:
            return mistake
    return None


def _draw_layer_case(rng):
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6)))
    activation = [None, "relu", "tanh", "sigmoid"][int(rng.integers(4))]
    shape = (*shape, int(rng.integers(1, 5)))
    return shape, int(rng.integers(1, 6)), (kh, kw), activation, bool(rng.integers(4)), 0


def check_conv2d_custom_gradient(Conv2D, hidden=False):
    """Output and gradients equal keras.layers.Conv2D's, and the gradients are those
    conv2d_backward returns: when it is made to return 2, 3 and 5 times its results, the
    layer's gradients with respect to input, kernel and bias follow."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(LAYER_CASES[kind], _draw_layer_case, EXTRA_HIDDEN if hidden else 0)
    for x_shape, filters, size, activation, use_bias, seed in table:
        x, kernel, bias, _ = _conv_arrays(x_shape, size, filters, 400 + seed)
        kwargs = _layer_kwargs(activation, use_bias)
        call = describe_call("Conv2D", (filters, size), kwargs)
        case = f"{call} on inputs {x_shape}, loss = sum(output * upstream), upstream random"
        bias = bias if use_bias else None
        ours = _student_layer(Conv2D, x_shape, filters, size, kwargs, kernel, bias)
        theirs = _keras_layer(x_shape, filters, size, kwargs, kernel, bias)
        expected_out = np.asarray(theirs(x))
        g = np.random.default_rng(cases.seed(500 + seed)).normal(size=expected_out.shape)
        g = g.astype("float32")
        expected = ops.gradients(theirs, x, upstream=g)
        found = _probe(ours, call, x, g, (1.0, 1.0, 1.0), case)
        mismatch = compare(found["output"], expected_out, LAYER_TOL)
        if mismatch:
            _fail(
                f"{call} does not match keras.layers.Conv2D.",
                mismatch.lines,
                case,
                hint="output = self.activation(conv2d_forward(inputs, kernel) + bias)",
            )
        _check_layer_gradients(Conv2D, call, found, expected, case)
        if not found["found"]:
            _fail(
                f"{call}'s gradient cannot come from conv2d_backward: Conv2D.call cannot see "
                "a function of that name.",
                ["define conv2d_backward in the notebook (Exercise 2) and call it by that name"],
                case,
            )
        if found["calls"] == 0:
            _fail(
                f"{call}'s gradient does not come from conv2d_backward: it never ran while "
                "TensorFlow computed the gradient.",
                ["TensorFlow differentiated your forward pass itself"],
                case,
                catalogue.AUTODIFF,
            )
        spied = _probe(ours, call, x, g, FACTORS, case)
        scaled = dict(zip(LAYER_PART, FACTORS, strict=True))
        for part, factor in scaled.items():
            got = spied["inputs"] if part == "inputs" else spied["weights"].get(part)
            wanted = expected["inputs"] if part == "inputs" else expected["weights"].get(part)
            if wanted is None:
                continue
            if got is None or compare(got, factor * np.asarray(wanted), LAYER_TOL):
                _fail(
                    f"{call}'s gradient with respect to its {part} does not come from "
                    "conv2d_backward.",
                    [
                        f"when conv2d_backward's results were multiplied by {FACTORS}, the "
                        f"gradient with respect to {part} should have been {factor:g} times "
                        "larger; it was not"
                    ],
                    case,
                    catalogue.BIAS_OUTSIDE if part == "bias" else catalogue.AUTODIFF,
                )
    passed(
        f"Conv2D's gradients come from conv2d_backward and match keras.layers.Conv2D in "
        f"{len(table)} cases"
    )


def _check_layer_gradients(Conv2D, call, found, expected, case):
    for part in LAYER_PART:
        wanted = expected["inputs"] if part == "inputs" else expected["weights"].get(part)
        if wanted is None:
            continue
        got = found["inputs"] if part == "inputs" else found["weights"].get(part)
        if got is None:
            _fail(
                f"No gradient reaches {call}'s {part}.",
                ["the backward pass returned None for it, or the output does not depend on it"],
                case,
                hint="backward returns conv2d_backward(x, kernel, upstream): three gradients",
            )
        mismatch = compare(got, np.asarray(wanted), LAYER_TOL, name=f"d loss / d {part}")
        if mismatch:
            _fail(
                f"{call}'s gradient with respect to its {part} differs from keras.layers.Conv2D's.",
                mismatch.lines,
                case,
                _diagnose_layer(Conv2D),
                RULES[LAYER_PART[part]],
            )


TRAIN_SHAPE = (32, 9, 8, 2)


GRAPH_HINT = (
    "during model.fit the backward pass runs in a TensorFlow graph, where tensors have no "
    "values yet: compute conv2d_backward with keras.ops (NumPy cannot read them there)"
)


def _train_spec(conv):
    """The model: two Conv2D layers (`conv` is (class,) or ("keras", "Conv2D")), a Dense head."""
    return [
        (*conv, (3, (3, 3)), {"activation": "tanh"}),
        (*conv, (4, (3, 2)), {"activation": "tanh"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {}),
    ]


def check_conv2d_trains(Conv2D):
    """Two of the layers in a model, trained by model.fit (Keras's compiled training step, so
    the backward pass runs in a TensorFlow graph): the same losses and final weights as the
    same model of keras.layers.Conv2D."""
    rng = np.random.default_rng(cases.seed(600))
    x = rng.normal(size=TRAIN_SHAPE).astype("float32")
    y = (x[:, 2:7, 2:6, 0].mean(axis=(1, 2)) - x[:, :, :, 1].mean(axis=(1, 2)))[:, None]
    weights = [
        rng.normal(scale=scale, size=shape).astype("float32")
        for shape, scale in (
            ((3, 3, 2, 3), 0.3),
            ((3,), 0.1),
            ((3, 2, 3, 4), 0.3),
            ((4,), 0.1),
            ((5 * 5 * 4, 1), 0.1),
            ((1,), 0.1),
        )
    ]
    args = ((None, *TRAIN_SHAPE[1:]), x, y.astype("float32"), "mse", weights)
    kwargs = {"learning_rate": 0.05, "epochs": 2, "batch_size": 8}
    case = (
        "Conv2D(3, 3, activation='tanh'), Conv2D(4, (3, 2), activation='tanh'), Flatten, "
        f"Dense(1) on inputs {TRAIN_SHAPE}: mean squared error, SGD(learning_rate=0.05), "
        "2 epochs of 4 batches, the same starting weights"
    )
    theirs = own_ops.fit_from(_train_spec(("keras", "Conv2D")), *args, **kwargs)
    try:
        ours = perform(
            "keras.Model.fit with two of your Conv2D layers",
            "fit_from",
            _train_spec((Conv2D,)),
            *args,
            forbidden=TRAINING,
            case=case,
            **kwargs,
        )
    except CheckFailed as failure:
        graph = any(word in failure.headline for word in ("symbolic", "NumPy", "numpy"))
        hint = GRAPH_HINT if graph else failure.hint
        raise CheckFailed(failure.headline, failure.details, hint) from None
    names = (
        "first kernel",
        "first bias",
        "second kernel",
        "second bias",
        "dense kernel",
        "dense bias",
    )
    mismatch = compare(ours["loss"], theirs["loss"], FIT_TOL, name="loss per epoch")
    for name, got, wanted in zip(names, ours["weights"], theirs["weights"], strict=True):
        if mismatch:
            break
        mismatch = compare(got, wanted, FIT_TOL, name=name)
    if mismatch:
        _fail(
            "A model with your Conv2D does not train like the same model with keras.layers.Conv2D.",
            mismatch.lines,
            case,
            _diagnose_layer(Conv2D),
            "model.fit differentiates your layer through its custom gradient, as the test "
            "above does: make that one pass first",
        )
    passed(
        f"model.fit trains your Conv2D like keras.layers.Conv2D, losses and weights within "
        f"the tolerance (loss "
        f"{ours['loss'][0]:.4f} -> {ours['loss'][-1]:.4f})"
    )
