"""Lesson 06's cases of max_pool_backward: worked examples, the stored table, its tolerance,
fresh draws, and the expected values (tf.GradientTape on keras.layers.MaxPooling2D).
"""

import numpy as np

from ...compare import Tolerance
from ...harness import cases, ops
from ...judge import Case
from .cases import EXTRA_HIDDEN, pair, signs

# Lesson 05's 4x4 example pooled 2x2; and windows that tie (zeros, as after a ReLU).
HAND_POOL_X = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 3, 0], [1, 0, 4, 8]])
HAND_POOL_G = np.array([[1, -2], [3, 0.5]])
HAND_POOL_GRAD = np.array([[0, 0, 0, -2], [0, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0.5]])
TIED_POOL_X = np.array([[0, 0, 5, 1], [0, 0, 1, 5]])
TIED_POOL_G = np.array([[2, 3]])
TIED_POOL_GRAD = np.array([[2, 0, 3, 0], [0, 0, 0, 0]])

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
POOL_VALUES = {
    "normal": "random",
    "tied": "whole numbers 0 to 3, many ties",
    "relu": "random, negatives set to 0 (ties)",
}
POOL_TOL = Tolerance(1e-6, 0.0, "each cell receives one upstream value or 0: no rounding")


def pool_input(shape, values, rng):
    if values == "tied":
        return rng.integers(0, 4, size=shape).astype("float32")
    x = rng.normal(size=shape).astype("float32")
    return np.maximum(x, 0.0) if values == "relu" else x


def keras_max_pool_gradient(x, g, pool_size) -> np.ndarray:
    """d sum(MaxPooling2D(pool_size)(x) * g) / dx by tf.GradientTape on Keras's layer."""
    import keras

    return np.asarray(ops.gradients(keras.layers.MaxPooling2D(pool_size), x, upstream=g)["inputs"])


def _pool_case(x, g, pool_size, expected, text) -> Case:
    hint = f"the gradient has the shape of x, {x.shape}; uncovered rows and columns get 0"
    return Case((x, g, pool_size), expected, text, hint)


def hand_pool_examples():
    """(x, g, expected, what, words) of the two worked examples; when grading, disguised: maybe
    transposed, x times a positive whole number plus another, g times a whole number."""
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
        c = signs(rng, 1)[0]
        x, g, expected = a * x + b, c * g, c * expected
        words += f", x times {a} plus {b}, upstream times {c}"
        if rng.integers(2):
            x, g, expected = x.T, g.T, expected.T
            words += ", transposed"
        disguised.append((x, g, expected, what, words))
    return disguised


def hand_pool(hidden: bool = False) -> list[tuple[Case, str, np.ndarray]]:
    """(case, what the example is, its expected gradient as the student reads it) of each."""
    found = []
    for x, g, expected, what, words in hand_pool_examples():
        text = f"{what}{words}: x {x.tolist()}, upstream gradient {g.tolist()}, pool_size 2"
        x4, g4 = (a[None, :, :, None].astype("float32") for a in (x, g))
        found.append((_pool_case(x4, g4, 2, expected[None, :, :, None], text), what, expected))
    return found


def draw_pool_case(rng):
    """A fresh (input shape, pool_size, values, seed): pools up to 5x5, inputs up to 13x13."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    height = kh * int(rng.integers(1, 4)) + int(rng.integers(0, kh))
    width = kw * int(rng.integers(1, 4)) + int(rng.integers(0, kw))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    pool_size = kh if kh == kw and rng.integers(2) else (kh, kw)
    return shape, pool_size, ("normal", "tied", "relu")[int(rng.integers(3))], 0


def pool(hidden: bool) -> list[Case]:
    """Cases of args (x, g, pool_size), expected TensorFlow's gradient of MaxPooling2D."""
    found = []
    table = cases.rows(POOL_CASES, hidden, draw_pool_case, EXTRA_HIDDEN)
    for shape, pool_size, values, seed in table:
        rng = np.random.default_rng(cases.seed(300 + seed))
        x = pool_input(shape, values, rng)
        kh, kw = pair(pool_size)
        g = rng.normal(size=(shape[0], shape[1] // kh, shape[2] // kw, shape[3]))
        g = g.astype("float32")
        text = (
            f"x {shape} ({POOL_VALUES[values]}), upstream gradient {g.shape} (random), "
            f"pool_size {pool_size}"
        )
        expected = keras_max_pool_gradient(x, g, pool_size)
        found.append(_pool_case(x, g, pool_size, expected, text))
    return found
