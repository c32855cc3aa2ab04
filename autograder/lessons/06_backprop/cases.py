"""Lesson 06's cases: worked examples, stored tables, tolerances, fresh draws and expected values
(max_pool_backward's are in `pool_cases.py`).

Expected values come from TensorFlow (`tf.GradientTape` on Keras's layers with the same weights),
exact formulas or float64 finite differences computed here, never from the reference solutions.
A table row holds shapes and a seed; the seed draws the values (a fresh one when grading).
"""

import numpy as np

from ...compare import Tolerance
from ...harness import cases, ops
from ...judge import Case
from ...keras_layers import pair
from ...oracles import correlate
from .rules import PARTS

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3

# The lecture's 4x3 input a..l and 2x2 kernel w1..w4 (output 3x2), with numbers.
HAND_CONV_X = np.array([[1, 2, 0], [3, 1, 1], [0, 2, 1], [1, 0, 2]])
HAND_CONV_KERNEL = np.array([[1, -1], [2, 0]])
HAND_CONV_G = np.array([[1, 0], [-1, 2], [0, 1]])
HAND_CONV_GRAD_X = np.array([[1, -1, 0], [1, 3, -2], [-2, 5, -1], [0, 2, 0]])
HAND_CONV_GRAD_KERNEL = np.array([[2, 4], [7, 3]])
HAND_CONV_GRAD_BIAS = np.array([3])

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
# (input shape, filters, kernel size, activation, use_bias, seed) of the Conv2D layer.
LAYER_CASES = {
    "public": [((2, 7, 6, 3), 4, (3, 2), None, True, 1), ((1, 6, 6, 1), 2, 3, "tanh", True, 2)],
    "hidden": [
        ((3, 5, 8, 2), 3, (2, 4), "relu", True, 3),
        ((2, 6, 6, 4), 1, 1, None, False, 4),
        ((1, 9, 7, 2), 5, (4, 3), "sigmoid", True, 5),
        ((2, 6, 5, 3), 3, (3, 2), "relu", False, 6),
    ],
}
# The inputs of the training check: two Conv2D layers and a Dense head, from known weights.
# 36 inputs in batches of 8: the last batch has 4, so model.fit runs call() (and the backward
# pass) on batches of unknown size (None), as any model may.
TRAIN_SHAPE = (36, 9, 8, 2)
TRAIN_WEIGHTS = (((3, 3, 2, 3), 0.3), ((3,), 0.1), ((3, 2, 3, 4), 0.3), ((4,), 0.1))
TRAIN_WEIGHTS += (((5 * 5 * 4, 1), 0.1), ((1,), 0.1))  # (shape, scale) of each weight

DEFAULT_EPS = 1e-5

NUMERICAL_TOL = Tolerance(
    1e-6,
    1e-6,
    "float64 central differences of a cubic are off by rounding (about 1e-9 with eps = 1e-5) "
    "and a * eps^2, which the expected value includes; a one-sided difference is off by "
    "eps / 2 times the second derivative",
)
X_TOL = Tolerance(
    0.0, 0.0, "x must hold exactly its own values again, as the notebook says: each entry put back"
)
# x off only in the last bits (restored by arithmetic, not from a saved value)
LAST_BITS = Tolerance(0.0, 1e-12, "x moved and put back by arithmetic differs by rounding only")
HAND_TOL = Tolerance(1e-6, 0.0, "whole numbers, exact up to float rounding")
CONV_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 400 products, in another order than TensorFlow"
)
LAYER_TOL = CONV_TOL
FIT_TOL = Tolerance(
    2e-4, 2e-3, "8 float32 SGD steps of the same model, gradients summed in another order"
)
# Only a shape or a NaN can differ: the gradient check judges values by relative error.
SHAPE_ONLY = Tolerance(np.inf, 0.0, "values are judged by their relative error")
# Largest relative error |yours - numerical| / (|yours| + |numerical|) (norms over all entries).
RELATIVE_ERROR_LIMIT = 1e-6
RELATIVE_ERROR_REASON = (
    "float64 central differences of this loss (linear in each argument) are exact up to "
    "rounding: a float64 backward pass gets about 1e-10, one that rounds to float32 on the way "
    "about 1e-7, a wrong one more than 1e-2"
)


def signs(rng, size):
    """Whole numbers 2 to 5, each of a random sign (to disguise a worked example)."""
    return [int(v) * int(rng.choice([-1, 1])) for v in rng.integers(2, 6, size=size)]


def cubic_spec(shape, rng) -> dict:
    """A random cubic test function for arrays of `shape` (see `ops.cubic_terms`)."""
    return {key: rng.uniform(-2, 2, size=shape) for key in "abcw"}


def cubic_gradient(spec, x) -> np.ndarray:
    """The exact gradient of `ops.cubic_terms` at x: 3 a x^2 + 2 b x + c + 2 (w . x) w."""
    x = np.asarray(x, np.float64)
    a, b, c, w = (np.asarray(spec[key], np.float64) for key in "abcw")
    return 3 * a * x**2 + 2 * b * x + c + 2 * np.sum(w * x) * w


def expected_numerical_gradient(spec, x, eps) -> np.ndarray:
    """The exact central difference with step eps: the gradient plus a eps^2 (the other terms
    are differenced exactly)."""
    return cubic_gradient(spec, x) + np.asarray(spec["a"], np.float64) * eps**2


def draw_numerical_case(rng):
    """A fresh (shape, eps, seed): 1 to 4 axes of 1 to 4 entries, the default step or another."""
    shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 5))))
    eps = [None, 1e-4, 1e-2, 0.2][int(rng.integers(4))]
    return shape, eps, 0


def numerical(hidden: bool) -> list[Case]:
    """Cases of args (spec, x), kwargs {eps} if not the default, expected the gradient."""
    found = []
    for shape, eps, seed in cases.rows(NUMERICAL_CASES, hidden, draw_numerical_case, EXTRA_HIDDEN):
        rng = np.random.default_rng(cases.seed(100 + seed))
        spec = cubic_spec(shape, rng)
        x = rng.normal(size=shape)
        step = "" if eps is None else f", eps={eps:g}"
        text = f"numerical_gradient(f, x{step}), x of shape {shape}, f a cubic polynomial of x"
        expected = expected_numerical_gradient(spec, x, DEFAULT_EPS if eps is None else eps)
        hint = f"the gradient has the shape of x, {shape}: one entry per entry of x"
        found.append(Case((spec, x), expected, text, hint, {} if eps is None else {"eps": eps}))
    return found


def hand_conv_example():
    """(x, kernel, g, expected parts, words) of the worked example; when grading, disguised:
    maybe transposed, the three arrays times whole numbers."""
    x, kernel, g = HAND_CONV_X, HAND_CONV_KERNEL, HAND_CONV_G
    gx, gk, gb = HAND_CONV_GRAD_X, HAND_CONV_GRAD_KERNEL, HAND_CONV_GRAD_BIAS
    words = ""
    if cases.drawing():
        rng = cases.generator()
        a, b, c = signs(rng, 3)
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


def hand_conv(hidden: bool = False) -> list[Case]:
    x, kernel, g, expected, words = hand_conv_example()
    text = (
        f"the worked example{words}: x {x.tolist()}, kernel {kernel.tolist()}, upstream "
        f"gradient {g.tolist()} (one image, one channel in and out)"
    )
    args = (x[None, :, :, None], kernel[:, :, None, None], g[None, :, :, None])
    return [Case(tuple(a.astype("float64") for a in args), expected, text)]


def conv_arrays(x_shape, size, filters, seed, dtype="float32"):
    """(x, kernel, bias, upstream gradient) of a case, drawn from `seed`."""
    rng = np.random.default_rng(cases.seed(200 + seed))
    kh, kw = pair(size)
    out_shape = (x_shape[0], x_shape[1] - kh + 1, x_shape[2] - kw + 1, filters)
    x = rng.normal(size=x_shape).astype(dtype)
    kernel = rng.normal(scale=0.5, size=(kh, kw, x_shape[3], filters)).astype(dtype)
    bias = rng.normal(size=(filters,)).astype(dtype)
    g = rng.normal(size=out_shape).astype(dtype)
    return x, kernel, bias, g


def keras_conv_gradients(x, kernel, bias, g) -> dict:
    """The three gradients of sum(Conv2D(x) * g), by tf.GradientTape on keras.layers.Conv2D."""
    import keras

    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2])
    layer.build(x.shape)
    ops.assign(layer, {"kernel": kernel, "bias": bias})
    found = ops.gradients(layer, x, upstream=g)
    grads = (found["inputs"], found["weights"]["kernel"], found["weights"]["bias"])
    return {part: np.asarray(grad) for part, grad in zip(PARTS, grads, strict=True)}


def draw_conv_case(rng):
    """A fresh (input shape, kernel size, filters, seed) within the proven tolerances."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 7)), kw + int(rng.integers(0, 7)))
    return (*shape, int(rng.integers(1, 7))), (kh, kw), int(rng.integers(1, 7)), 0


def _conv_cases(table, draw, hidden, dtype, words, expected) -> list[Case]:
    """Cases of args (x, kernel, g), expected `expected(x, kernel, bias, g)` by part."""
    found = []
    for x_shape, size, filters, seed in cases.rows(table, hidden, draw, EXTRA_HIDDEN):
        arrays = conv_arrays(x_shape, size, filters, seed, dtype)
        x, kernel, _, g = arrays
        text = f"x {x.shape}, kernel {kernel.shape}, upstream gradient {g.shape} (random), {words}"
        found.append(Case((x, kernel, g), expected(*arrays), text))
    return found


def conv(hidden: bool) -> list[Case]:
    """float32 cases, expected TensorFlow's gradients."""
    return _conv_cases(
        CONV_CASES, draw_conv_case, hidden, "float32", "float32", keras_conv_gradients
    )


def conv_loss(x, kernel, bias, g) -> float:
    """sum((valid cross-correlation of x with kernel + bias) * g), in float64 NumPy."""
    out = correlate(x, kernel) + np.asarray(bias, np.float64)
    return float(np.sum(out * g))


def finite_differences(loss, arrays, which, eps=DEFAULT_EPS, kind="central") -> np.ndarray:
    """Differences of loss(*arrays) with respect to arrays[which], entry by entry: "central",
    or (for the catalogue's wrong answers) "forward" or "backward"."""
    arrays = [np.array(a, np.float64) for a in arrays]
    target, base = arrays[which], loss(*arrays)
    out = np.zeros(target.shape)
    for index in np.ndindex(target.shape):
        saved = target[index]
        target[index] = saved + eps
        plus = loss(*arrays)
        target[index] = saved - eps
        minus = loss(*arrays)
        target[index] = saved
        if kind == "forward":
            out[index] = (plus - base) / eps
        elif kind == "backward":
            out[index] = (base - minus) / eps
        else:
            out[index] = (plus - minus) / (2 * eps)
    return out


def relative_error(actual, expected) -> float:
    """|actual - expected| / (|actual| + |expected|) with norms over all entries (0 if both 0)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    return 0.0 if scale == 0 else float(np.linalg.norm(actual - expected) / scale)


def draw_gradient_check_case(rng):
    """A fresh small case (finite differences cost two losses per entry)."""
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 5)), kw + int(rng.integers(0, 5)))
    return (*shape, int(rng.integers(1, 4))), (kh, kw), int(rng.integers(1, 5)), 0


def numerical_gradients(x, kernel, bias, g) -> dict:
    """The central differences of `conv_loss` with respect to x, kernel and bias."""
    return {
        part: finite_differences(conv_loss, (x, kernel, bias, g), i) for i, part in enumerate(PARTS)
    }


def gradient_check(hidden: bool) -> list[Case]:
    """float64 cases, expected the central differences of the loss."""
    words = (
        "float64; loss = sum((conv(x, kernel) + bias) * upstream), central differences with "
        f"eps = {DEFAULT_EPS:g}"
    )
    table, draw = GRADIENT_CHECK_CASES, draw_gradient_check_case
    return _conv_cases(table, draw, hidden, "float64", words, numerical_gradients)


def layer_kwargs(activation, use_bias):
    kwargs = {} if activation is None else {"activation": activation}
    return kwargs if use_bias else {**kwargs, "use_bias": False}


def draw_layer_case(rng):
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6)))
    activation = [None, "relu", "tanh", "sigmoid"][int(rng.integers(4))]
    shape = (*shape, int(rng.integers(1, 5)))
    return shape, int(rng.integers(1, 6)), (kh, kw), activation, bool(rng.integers(4)), 0


def layer(hidden: bool) -> list[tuple]:
    """(x, constructor args, kwargs, weights, upstream gradient) of each Conv2D case."""
    found = []
    for x_shape, filters, size, activation, use_bias, seed in cases.rows(
        LAYER_CASES, hidden, draw_layer_case, EXTRA_HIDDEN
    ):
        x, kernel, bias, _ = conv_arrays(x_shape, size, filters, 400 + seed)
        weights = {"kernel": kernel, "bias": bias} if use_bias else {"kernel": kernel}
        (kh, kw), (b, h, w, _) = pair(size), x_shape
        g = np.random.default_rng(cases.seed(500 + seed)).normal(
            size=(b, h - kh + 1, w - kw + 1, filters)
        )
        args, kwargs = (filters, size), layer_kwargs(activation, use_bias)
        found.append((x, args, kwargs, weights, g.astype("float32")))
    return found


def training_data():
    """(x, y, weights) of the training check: y a smooth function of x, weights small."""
    rng = np.random.default_rng(cases.seed(600))
    x = rng.normal(size=TRAIN_SHAPE).astype("float32")
    y = (x[:, 2:7, 2:6, 0].mean(axis=(1, 2)) - x[:, :, :, 1].mean(axis=(1, 2)))[:, None]
    weights = [
        rng.normal(scale=scale, size=shape).astype("float32") for shape, scale in TRAIN_WEIGHTS
    ]
    return x, y.astype("float32"), weights
