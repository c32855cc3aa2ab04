"""Lesson 05's cases: the worked examples, the stored case tables (the seed of a row draws its
values), their tolerances, and how fresh cases are drawn when grading. Only pool_windows has
stored reference outputs; pool_output_size and the layers are compared with Keras live.
"""

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...judge import Case
from ...keras_layers import layer_case, pair
from ...twin import LayerCase
from . import mistakes as catalogue

ASSIGNMENT = "05_pooling"

# The worked example: a 4x4 image, 2x2 windows, stride 2 (the default: strides = pool_size).
HAND_X = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 3, 0], [1, 0, 4, 8]])
HAND_MAX = np.array([[6, 4], [7, 8]])
HAND_AVERAGE = np.array([[3.75, 2.25], [2.5, 3.75]])
# 'same' padding on negative numbers: one padded row at the bottom, one column at the right.
NEGATIVE_X = -np.arange(1, 10).reshape(3, 3)
NEGATIVE_MAX = np.array([[-1, -3], [-7, -9]])
NEGATIVE_AVERAGE = np.array([[-3, -4.5], [-7.5, -9]])
NEGATIVE = "the 3x3 image of negative numbers"

# (size, pool_size, stride, padding) compared with Keras's output shapes.
OUTPUT_SIZE_CASES = {
    "public": [
        (8, 2, 2, "valid"),
        (7, 2, 2, "valid"),
        (7, 3, 2, "valid"),
        (10, 3, 1, "valid"),
        (7, 2, 2, "same"),
        (8, 3, 3, "same"),
        (5, 5, 5, "valid"),
        (5, 3, 1, "same"),
    ],
    "hidden": [
        (n, k, s, padding)
        for n in range(1, 13)
        for k in range(1, 5)
        for s in range(1, 5)
        for padding in ("valid", "same")
        if padding == "same" or k <= n
    ],
}
# (input shape, pool_size, strides, padding, pad_value, seed) of the stored pool_windows cases.
# The last hidden one has windows smaller than the stride with 'same' padding: TensorFlow's
# formula (out - 1) * s + k - n is negative there and no padding is added.
WINDOWS_CASES = {
    "public": [
        ((1, 4, 4, 1), (2, 2), (2, 2), "valid", 0.0, 1),
        ((2, 5, 7, 3), (3, 2), (3, 2), "same", 9.0, 2),
        ((2, 6, 5, 2), (3, 3), (1, 1), "same", -9.0, 3),
        ((1, 9, 8, 2), (2, 3), (2, 1), "valid", 0.0, 4),
        # n % s != 0 with 2 cells of padding in all along the height: TensorFlow's total is not
        # max(k - s, 0), the rule that holds only when s divides n.
        ((2, 7, 6, 2), (3, 3), (2, 2), "same", -9.0, 12),
    ],
    "hidden": [
        ((2, 7, 7, 4), (2, 2), (2, 2), "same", 9.0, 5),
        ((1, 3, 3, 1), (4, 4), (4, 4), "same", -9.0, 6),
        ((3, 10, 6, 2), (1, 3), (3, 2), "same", 9.0, 7),
        ((2, 8, 9, 3), (3, 1), (4, 2), "valid", 9.0, 8),
        ((1, 5, 5, 1), (5, 5), (1, 1), "valid", 0.0, 9),
        ((2, 11, 4, 2), (2, 4), (3, 1), "same", -9.0, 10),
        ((2, 8, 8, 2), (1, 2), (2, 4), "same", -9.0, 11),
    ],
}
# (input shape, pool_size, strides, padding, inputs, seed) compared with Keras live; inputs are
# normal values, "negative" ones (a zero in a padded cell beats them all), "far" ones (-10,000
# and below: so does a padded cell of -100 or -1,000 instead of -inf) or "relu" ones (about
# half of them exactly 0, as after a ReLU: a real 0 must count in an average).
# The last two hidden ones have 'same' padding with a pool smaller than the stride (a pool of
# 1 with stride 2, and (2, 1) with stride 3) where the padding formula is negative: no
# padding, the first window starts at the first row and column.
POOLING_CASES = {
    "public": [
        ((2, 8, 8, 3), 2, None, "valid", "normal", 1),
        ((2, 9, 7, 2), (3, 2), None, "same", "normal", 2),
        ((1, 10, 9, 4), 3, (2, 1), "valid", "normal", 3),
        ((3, 7, 8, 2), (2, 3), 2, "same", "negative", 4),
        ((2, 7, 9, 3), 3, 2, "same", "relu", 15),
        ((2, 5, 6, 2), 2, None, "same", "far", 17),
    ],
    "hidden": [
        ((1, 5, 5, 1), 5, None, "valid", "normal", 5),
        ((2, 6, 11, 3), (1, 3), (1, 2), "same", "normal", 6),
        ((2, 12, 12, 8), 4, 3, "same", "negative", 7),
        ((1, 13, 6, 2), (3, 1), (4, 1), "valid", "normal", 8),
        ((2, 4, 4, 5), 3, 1, "same", "negative", 9),
        ((2, 3, 3, 2), 4, None, "same", "negative", 10),
        ((4, 16, 16, 3), (2, 2), None, "same", "normal", 11),
        ((1, 7, 9, 1), (3, 3), (2, 2), "same", "negative", 12),
        ((2, 8, 9, 3), 1, 2, "same", "negative", 13),
        ((1, 12, 12, 2), (2, 1), 3, "same", "normal", 14),
        ((2, 8, 10, 4), (3, 2), (1, 3), "same", "relu", 16),
        ((1, 7, 7, 3), 3, 2, "same", "far", 18),
    ],
}
# (input shape, keepdims, seed) compared with keras.layers.GlobalAveragePooling2D live.
GLOBAL_CASES = {
    "public": [((2, 5, 6, 3), False, 1), ((1, 7, 7, 1), True, 2), ((3, 4, 9, 8), False, 3)],
    "hidden": [
        ((2, 16, 16, 16), True, 4),
        ((1, 1, 1, 5), False, 5),
        ((4, 3, 12, 2), True, 6),
        ((2, 28, 28, 4), False, 7),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4

HAND_TOL = Tolerance(1e-6, 0.0, "small example with exact answers")
WINDOWS_TOL = Tolerance(1e-6, 0.0, "pool_windows only copies values")
MAX_TOL = Tolerance(1e-6, 0.0, "a max picks one of the input values: no rounding")
AVERAGE_TOL = Tolerance(
    1e-5, 1e-5, "float32 means of at most 25 values, summed in another order than TensorFlow"
)
GLOBAL_TOL = Tolerance(1e-5, 1e-5, "float32 means of at most 784 values of size ~1")
GRADIENT_TOL = Tolerance(
    1e-5, 1e-5, "input gradients are sums of a few weights (max) or of weights / counts (average)"
)

SUPPORTED_ARGUMENTS = ("pool_size", "strides", "padding", "data_format", "name")
CONFIG_KEYS = ("pool_size", "strides", "padding", "data_format")
SHAPE_FORMULA = "out = floor((n - k) / s) + 1 for 'valid', ceil(n / s) for 'same'"
# (pool_size, kwargs) of the layers whose config and output shapes the contract checks.
CONTRACT_SETUPS = (
    ((3, 2), {}),
    (2, {"strides": 1, "padding": "same"}),
    ((2, 3), {"strides": (2, 1)}),
    (3, {"padding": "same"}),
)
# Unknown sizes: the height, both, and the width alone (each must stay None).
CONTRACT_SHAPES = ((2, 9, 8, 3), (None, 7, 10, 1), (None, None, 8, 4), (None, 6, None, 2))


def _choice(rng, options):
    return options[int(rng.integers(len(options)))]


def _wide(rng, low, high) -> int:
    """A whole number in [low, high], log-uniform, so that small and large sizes both come up."""
    return min(high, max(low, int(np.exp(rng.uniform(np.log(low), np.log(high + 1))))))


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored pool_windows cases, from `solution`."""
    arrays = {}
    for name, table in WINDOWS_CASES.items():
        for index, (shape, size, strides, padding, pad_value, seed) in enumerate(table):
            x = np.random.default_rng(5000 + seed).normal(size=shape).astype("float32")
            prefix = f"pool_windows/{name}/{index}"
            arrays[f"{prefix}/x"] = x
            out = solution.pool_windows(x, size, strides, padding, pad_value)
            arrays[f"{prefix}/out"] = np.asarray(out)
    return arrays


def expected_windows(x, pool_size, strides, padding, pad_value) -> np.ndarray:
    """pool_windows of `x` computed here with NumPy: TensorFlow's 'same' padding (the extra
    row and column after the input), each window listed row by row."""
    values = catalogue.windows(x, pool_size, strides, padding, pad_value)[0]
    return values.astype(np.asarray(x).dtype)


# --- pool_output_size --------------------------------------------------------------------------


def keras_output_size(n, k, s, padding) -> int:
    import keras

    layer = keras.layers.MaxPooling2D((k, 1), strides=(s, 1), padding=padding)
    return layer.compute_output_shape((1, n, 1, 1))[1]


def output_size_formula(n, k, s, padding) -> str:
    if padding == "valid":
        return f"'valid': floor((n - k) / s) + 1 = floor(({n} - {k}) / {s}) + 1"
    return f"'same': ceil(n / s) = ceil({n} / {s})"


def _redraw_output_size(rng, case):
    """Fresh (n, k, s, padding) like a stored case, from a wide range: the same padding, a
    stride of 1 stays 1 and, for 'valid', k = n stays and (n - k) stays divisible by s or not."""
    n, k, s, padding = case
    stride = 1 if s == 1 else int(rng.integers(2, 17))
    size = int(rng.integers(1, 33))
    if padding == "same":
        return _wide(rng, 2, 10_000), size, stride, padding
    if n == k:
        return size, size, stride, padding
    rest = 0 if (n - k) % s == 0 else int(rng.integers(1, stride))
    return size + _wide(rng, 1, 1000) * stride + rest, size, stride, padding


def _draw_output_size(rng):
    """A fresh (n, k, s, padding) from a wide range, for hidden checks when grading."""
    padding = _choice(rng, ("valid", "same"))
    k, s = int(rng.integers(1, 33)), int(rng.integers(1, 17))
    n = _wide(rng, 1, 10_000)
    return (k + n - 1 if padding == "valid" else n), k, s, padding


def output_sizes(hidden: bool) -> list[tuple]:
    """The stored cases; when grading, the public ones redrawn from a wide range and, after the
    hidden grid of small cases, EXTRA_HIDDEN drawn ones, so a table of answers is worthless."""
    rows = cases.rows(OUTPUT_SIZE_CASES, hidden, _draw_output_size, EXTRA_HIDDEN)
    if hidden or not cases.drawing():
        return rows
    return [_redraw_output_size(cases.generator(), case) for case in rows]


# --- pool_windows ------------------------------------------------------------------------------


def _draw_geometry(rng, top):
    """A fresh padding, input height and width below `top`, and pool size: at most 5x5, within
    the input for 'valid'."""
    padding = _choice(rng, ("valid", "same"))
    height, width = (int(n) for n in rng.integers(1, top, size=2))
    limits = (height, width) if padding == "valid" else (5, 5)
    size = tuple(int(rng.integers(1, min(limit, 5) + 1)) for limit in limits)
    return padding, height, width, size


def _draw_windows_case(rng):
    """A fresh (input shape, pool_size, strides, padding, pad_value, seed) for grading."""
    padding, height, width, size = _draw_geometry(rng, 12)
    strides = tuple(int(s) for s in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    return shape, size, strides, padding, _choice(rng, (0.0, 9.0, -9.0)), 0


def windows(hidden: bool) -> list[Case]:
    """The stored cases and references; when grading, fresh inputs (and cases, hidden)."""
    found = []
    for (_, *args, _), (x,), expected in cases.stored_or_fresh(
        ASSIGNMENT,
        f"pool_windows/{'hidden' if hidden else 'public'}",
        cases.rows(WINDOWS_CASES, hidden, _draw_windows_case, EXTRA_HIDDEN),
        ("x",),
        lambda rng, row: (rng.normal(size=row[0]).astype("float32"),),
        lambda row, x: expected_windows(x, *row[1:5]),
    ):
        (b, _, _, c), (_, out_h, out_w, k, _) = x.shape, expected.shape
        size, strides, padding, pad_value = args
        found.append(
            Case(
                (x.copy(), *args),
                expected,
                f"pool_windows(x, {size}, {strides}, {padding!r}, pad_value={pad_value}), "
                f"x {x.shape}",
                f"shape = (batch, out_h, out_w, kh * kw, C) = ({b}, {out_h}, {out_w}, {k}, {c})"
                f"; {SHAPE_FORMULA}",
            )
        )
    return found


# --- MaxPooling2D and AveragePooling2D ---------------------------------------------------------


def layer_kwargs(strides, padding) -> dict:
    kwargs = {} if strides is None else {"strides": strides}
    if padding != "valid":
        kwargs["padding"] = padding
    return kwargs


def keras_layer(mode, *args, **kwargs):
    import keras

    cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    return cls(*args, **kwargs)


def _disguise(x, outputs, negative):
    """The example as it is, or (when grading) in disguise: maybe transposed, times a whole
    number a >= 2, plus a whole number b (b <= 0 for negative numbers, which stay negative).
    Max and average pooling commute with all three on these examples (square windows, the
    same padding on both axes). Returns (x, outputs, words for the case)."""
    if not cases.drawing():
        return x, outputs, ""
    rng = cases.generator()
    a, b = int(rng.integers(2, 6)), int(rng.integers(-9, 1 if negative else 10))
    x, outputs = a * x + b, [a * out + b for out in outputs]
    words = [f"times {a}", f"plus {b}" if b >= 0 else f"minus {-b}"]
    if rng.integers(2):
        x, outputs = x.T, [out.T for out in outputs]
        words.insert(0, "transposed")
    return x, outputs, ", " + ", ".join(words)


def hand_examples():
    """(mode, kwargs, x, expected, what, disguise) of the worked examples, disguised if grading."""
    examples = []
    for x, outputs, kwargs, what, negative in (
        (HAND_X, (HAND_MAX, HAND_AVERAGE), {}, "the worked 4x4 example", False),
        (NEGATIVE_X, (NEGATIVE_MAX, NEGATIVE_AVERAGE), {"padding": "same"}, NEGATIVE, True),
    ):
        x, (max_out, average_out), disguise = _disguise(x, outputs, negative)
        examples.append(("max", kwargs, x, max_out, what, disguise))
        examples.append(("average", kwargs, x, average_out, what, disguise))
    return examples


def _draw_pooling_case(rng):
    """A fresh (input shape, pool_size, strides, padding, inputs, seed) for grading, within
    the set-ups the tolerances are proven for (windows of at most 5x5)."""
    padding, height, width, (kh, kw) = _draw_geometry(rng, 14)
    pool_size = kh if kh == kw and rng.integers(2) else (kh, kw)
    strides = [None, int(rng.integers(1, 5)), tuple(int(s) for s in rng.integers(1, 5, size=2))][
        int(rng.integers(3))
    ]
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 9)))
    inputs = _choice(rng, ("normal", "negative", "far", "relu"))
    return shape, pool_size, strides, padding, inputs, 0


# Each kind of inputs: its words in the case line, and how it is made from normal values.
INPUTS = {
    "normal": ("", lambda x: x),
    "negative": ("negative ", lambda x: -np.abs(x) - 0.1),
    "far": ("far negative (-10,000 and below) ", lambda x: -1e4 * (np.abs(x) + 1)),
    "relu": ("ReLU-like (half of them 0) ", lambda x: np.maximum(x, 0)),
}


def pooling(mode: str, hidden: bool) -> list[LayerCase]:
    """The stored layer cases with Keras's outputs; fresh ones (more, hidden) when grading."""
    name = "MaxPooling2D" if mode == "max" else "AveragePooling2D"
    found = []
    rows = cases.rows(POOLING_CASES, hidden, _draw_pooling_case, EXTRA_HIDDEN)
    for shape, pool_size, strides, padding, inputs, seed in rows:
        kwargs = layer_kwargs(strides, padding)
        words, make = INPUTS[inputs]
        x = make(cases.normal(shape, seed)).astype("float32")
        expected = np.asarray(keras_layer(mode, pool_size, **kwargs)(x))
        (kh, kw), (sh, sw) = pair(pool_size), pair(strides or pool_size)
        found.append(
            LayerCase(
                (pool_size,),
                expected,
                f"{describe_call(name, (pool_size,), kwargs)} on {words}inputs {shape}",
                f"output shape = (batch, out_h, out_w, C) = {expected.shape} with "
                f"{SHAPE_FORMULA}; here n = {shape[1]}, {shape[2]}, k = {kh}, {kw}, "
                f"s = {sh}, {sw}",
                layer_kwargs=kwargs,
                inputs=x,
            )
        )
    return found


# --- GlobalAveragePooling2D --------------------------------------------------------------------


def _draw_global_case(rng):
    """A fresh (input shape, keepdims, seed) for grading: at most 28x28 positions."""
    height, width = (int(n) for n in rng.integers(1, 29, size=2))
    shape = (int(rng.integers(1, 5)), height, width, int(rng.integers(1, 17)))
    return shape, bool(rng.integers(2)), 0


def global_pooling(hidden: bool) -> list[LayerCase]:
    """The stored GlobalAveragePooling2D cases with Keras's outputs, fresh when grading."""
    import keras

    found = []
    for shape, keepdims, seed in cases.rows(GLOBAL_CASES, hidden, _draw_global_case, EXTRA_HIDDEN):
        kwargs = {"keepdims": keepdims}
        x = cases.normal(shape, seed)
        expected = np.asarray(keras.layers.GlobalAveragePooling2D(**kwargs)(x))
        hint = f"output shape = {'(batch, 1, 1, C)' if keepdims else '(batch, C)'}"
        found.append(
            layer_case("GlobalAveragePooling2D", (), kwargs, x, {}, hint, expected=expected)
        )
    return found
