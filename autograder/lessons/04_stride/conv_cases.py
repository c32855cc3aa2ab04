"""Lesson 04's Conv2D cases, compared with Keras live ('full' padding, which Keras lacks, by
Keras's 'valid' Conv2D on the input padded by hand): the strided and dilated tables, the two
layers whose gradients are compared, their tolerances, and how fresh cases are drawn.
"""

from dataclasses import replace

import numpy as np

from ...compare import Tolerance
from ...harness import cases
from ...keras_layers import layer_case, pair
from ...twin import LayerCase
from .cases import EXTRA_HIDDEN, SIZE_FORMULA, expected_size

# (input shape, filters, kernel size, strides, padding, use_bias, activation, seed) vs Keras.
STRIDE_CASES = {
    "public": [
        ((2, 8, 7, 1), 2, 3, 2, "same", True, None, 1),
        ((2, 9, 9, 3), 4, (4, 2), (2, 3), "same", True, "relu", 2),
        ((1, 10, 8, 2), 3, 3, (3, 2), "valid", True, None, 3),
        ((2, 7, 6, 4), 2, 5, 2, "valid", False, None, 4),
        ((2, 7, 6, 2), 2, 3, (2, 1), "same", True, None, 18),
    ],
    "hidden": [
        ((1, 12, 12, 3), 2, 3, 4, "same", True, None, 5),
        ((2, 5, 11, 2), 3, (1, 4), (1, 3), "same", True, "tanh", 6),
        ((1, 6, 6, 1), 1, 2, 2, "valid", True, None, 7),
        ((2, 13, 9, 5), 4, (5, 3), (3, 1), "same", True, None, 8),
        ((1, 4, 4, 2), 2, 4, 4, "valid", True, None, 9),
        ((1, 8, 8, 3), 2, 4, 2, "same", True, "relu", 10),
        ((1, 6, 9, 3), 3, (2, 3), (1, 2), "valid", True, "relu", 19),
        # 'full' (no Keras option): answered by Keras on the input padded by hand.
        ((1, 7, 6, 2), 2, 3, 2, "full", True, None, 20),
        ((2, 5, 8, 3), 3, (2, 3), (3, 2), "full", False, "relu", 21),
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
        ((1, 6, 7, 2), 2, (3, 2), (2, 3), "full", True, "tanh", 22),
    ],
}

# The two layers whose gradients are compared: (input shape, filters, kernel, arguments, seed).
TRAIN_CASES = (
    ((3, 8, 7, 2), 3, 3, {"strides": 2, "padding": "same", "activation": "tanh"}, 31),
    ((2, 7, 8, 2), 2, (3, 2), {"dilation_rate": 2, "padding": "same"}, 32),
)

CONV2D_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 200 products, in another order than Keras"
)
GRADIENT_TOL = Tolerance(1e-3, 1e-3, "float32 gradients summed over batch and positions")
FULL_ORACLE = (
    "keras.layers.Conv2D(padding='valid') with the same weights on the inputs padded with "
    "d(k - 1) zeros on every side"
)


# --- Conv2D ------------------------------------------------------------------------------------


def conv_case(input_shape, filters, size, kwargs, seed) -> LayerCase:
    """A Conv2D case: its arguments, inputs and weights drawn from `seed` (no bias without
    one), answered by Keras ('full', which Keras lacks, by Keras on the input padded by hand)."""
    kernel = cases.normal((*pair(size), input_shape[-1], filters), seed + 100, scale=0.5)
    bias = cases.normal((filters,), seed + 200) if kwargs.get("use_bias", True) else None
    x = cases.normal(input_shape, seed)
    full = kwargs.get("padding") == "full"
    formula = f"{SIZE_FORMULA}; p = 2 d(k - 1) for 'full'" if full else SIZE_FORMULA
    weights = {"kernel": kernel, "bias": bias}
    hint = (
        f"each output size is {formula}; each axis has its own n, k, s and d: pad it by "
        "padding_amounts(n, k, s, padding, d) of that axis"
    )
    case = layer_case("Conv2D", (filters, size), kwargs, x, weights, hint)
    if not full:
        return case
    expected = full_reference(x, (filters, pair(size)), kwargs, case.weights)
    return replace(case, expected=expected, text=f"{case.text}, compared with {FULL_ORACLE}")


def full_reference(x, args, kwargs, weights) -> np.ndarray:
    """Conv2D(*args, padding='full', **kwargs) on `x`: Keras's 'valid' Conv2D with `weights`
    on `x` padded with d(k - 1) zeros on every side."""
    import keras

    filters, (kh, kw) = args
    dh, dw = pair(kwargs.get("dilation_rate", 1))
    sides = ((dh * (kh - 1),) * 2, (dw * (kw - 1),) * 2)
    padded = np.pad(x, ((0, 0), *sides, (0, 0)))
    layer = keras.layers.Conv2D(filters, (kh, kw), **{**kwargs, "padding": "valid"})
    layer.build(padded.shape)
    layer.set_weights([weights[name] for name in ("kernel", "bias") if name in weights])
    return np.asarray(layer(padded))


def output_shape(args, kwargs, input_shape) -> tuple:
    """Conv2D(*args, **kwargs)'s output shape for `input_shape`: Keras's, or for 'full' (which
    Keras lacks) the formula's, None staying None."""
    import keras

    if kwargs.get("padding") != "full":
        return tuple(keras.layers.Conv2D(*args, **kwargs).compute_output_shape(input_shape))
    filters, size = args
    geometry = zip(
        input_shape[1:3],
        pair(size),
        pair(kwargs.get("strides", 1)),
        pair(kwargs.get("dilation_rate", 1)),
        strict=True,
    )
    sizes = (expected_size(n, k, s, "full", d) for n, k, s, d in geometry)
    return (input_shape[0], *sizes, filters)


def _draw_conv2d_case(rng, argument):
    """A fresh case of STRIDE_CASES's (or DILATION_CASES's) form for grading."""
    size = tuple(int(k) for k in rng.integers(1, 6, size=2))
    value = tuple(int(v) for v in rng.integers(1, 5, size=2))
    dilation = value if argument == "dilation_rate" else (1, 1)
    spans = (d * (k - 1) + 1 for k, d in zip(size, dilation, strict=True))
    height, width = (span + int(rng.integers(0, 8)) for span in spans)
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 6)))
    padding = ("valid", "same", "full")[int(rng.integers(3))]
    activation = (None, "relu", "tanh")[int(rng.integers(3))]
    filters, use_bias = int(rng.integers(1, 6)), bool(rng.integers(4))
    return shape, filters, size, value, padding, use_bias, activation, 0


def conv2d(argument: str, hidden: bool) -> list[LayerCase]:
    """The stored cases of `argument` ("strides" or "dilation_rate"), fresh when grading."""
    table = STRIDE_CASES if argument == "strides" else DILATION_CASES
    found = []
    for shape, filters, size, value, padding, use_bias, activation, seed in cases.rows(
        table, hidden, lambda rng: _draw_conv2d_case(rng, argument), EXTRA_HIDDEN
    ):
        kwargs = {
            argument: value,
            "padding": padding,
            "use_bias": use_bias,
            "activation": activation,
        }
        found.append(conv_case(shape, filters, size, kwargs, seed))
    return found
