"""Lesson 03's cases: the stored case tables, their tolerances, and how fresh cases are drawn
when grading. The answers are Keras's, run live (ZeroPadding2D, Conv2D "valid" and "same"),
scipy.signal.correlate2d(mode="full")'s for "full", and TensorFlow's documented rule for the
padding amounts (`mistakes.amounts`, confirmed against Keras by the tests).
"""

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...judge import Case
from ...keras_layers import layer_case, pair
from ...twin import LayerCase
from . import mistakes as catalogue

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
        # Keras's other mix, ((top, bottom), pw), and lists, which Keras reads as pairs.
        ((2, 3, 4, 2), ((2, 0), 1), 9),
        ((1, 4, 3, 2), [[1, 0], [2, 3]], 10),
    ],
}
# (kernel size, mode, expected (before, after)) of padding_amounts, by TensorFlow's rule; a mode
# of None is not passed: the case relies on the default, "valid".
PADDING_AMOUNTS_CASES = {
    "public": [
        (3, "valid", (0, 0)),
        (3, "same", (1, 1)),
        (4, "same", (1, 2)),
        (2, "same", (0, 1)),
        (3, "full", (2, 2)),
        (1, "same", (0, 0)),
        (4, None, (0, 0)),
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
        # An activation without a bias: a layer that activates only when it adds a bias fails
        # here on every run, not only when a fresh case happens to draw this pair.
        ((2, 6, 5, 3), 3, (3, 2), "same", False, "relu", 11),
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
# Keras's forms of padding besides the plain three, with why Keras reads each so: the other mix
# (((1, 2), 3) is ((1, 2), (3, 3)), as (1, (0, 2)) is ((1, 1), (0, 2))), and pairs as lists.
OTHER_FORMS = (
    (((1, 2), 3), "each entry of the pair is an int (the same zeros on both sides) or a pair"),
    ([1, 2], "a list is read as a tuple"),
    ([[1, 2], [3, 0]], "lists are read as tuples"),
)
# The padding arguments of the ZeroPadding2D contract: the plain forms and the first mix, then
# OTHER_FORMS (checked after the rest of the contract), every form Keras accepts.
CONTRACT_PADDINGS = (2, (1, 3), ((1, 2), (3, 0)), (0, (2, 1)))
# Input shapes of unknown width that the contracts' compute_output_shape meets after the known
# ones: any size but the channels may be None, the width as well as the height, and stays None.
UNKNOWN_WIDTHS = ((None, 7, None, 3), (None, None, None, 3))

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4

PAD_TOL = Tolerance(0.0, 0.0, "padding only copies values and adds exact zeros")
PAD_GRADIENT_TOL = Tolerance(
    1e-6,
    1e-6,
    "the gradient is the output's, cropped: a product with shifted identities adds "
    "exact zeros, but a fused kernel may round",
)
# ZeroPadding2D's input gradient: this padding of batches (2, 4, 5, 3), every side different.
GRADIENT_PADDING = ((1, 2), (3, 0))
CONV2D_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 200 products, in another order than the reference"
)
GRADIENT_TOL = Tolerance(1e-3, 1e-3, "float32 gradients summed over batch and positions")

DEFAULT_MODE = "valid"  # padding_amounts's, as its docstring says


def expected_amounts(k, mode):
    """TensorFlow's rule (`catalogue.amounts`), the oracle of fresh cases; mode None: the
    default."""
    return catalogue.amounts(k, mode or DEFAULT_MODE)


def random_conv(input_shape, filters, size, seed):
    """(inputs, kernel, bias) of a Conv2D case, drawn from `seed` (fresh when grading)."""
    kernel = cases.normal((*pair(size), input_shape[-1], filters), seed + 100, scale=0.5)
    return cases.normal(input_shape, seed), kernel, cases.normal((filters,), seed + 200)


def _draw_zero_padding_case(rng):
    """A fresh (input shape, padding, seed): the padding an int, pair, pair of pairs or mixed."""
    height, width = (int(v) for v in rng.integers(1, 7, size=2))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    top, bottom, left, right = (int(v) for v in rng.integers(0, 4, size=4))
    forms = (top, (top, left), ((top, bottom), (left, right)), (top, (left, right)))
    forms += (((top, bottom), left),)
    return shape, forms[int(rng.integers(len(forms)))], 0


def zero_padding(hidden: bool) -> list[LayerCase]:
    """The stored ZeroPadding2D cases (fresh values and more shapes when grading); the inputs
    have no zeros near the border, so that any fill shows."""
    found = []
    for shape, padding, seed in cases.rows(
        ZERO_PADDING_CASES, hidden, _draw_zero_padding_case, EXTRA_HIDDEN
    ):
        ((top, bottom), (left, right)), (b, h, w, c) = catalogue.keras_pairs(padding), shape
        hint = (
            "output shape = (batch, top + H + bottom, left + W + right, C) = "
            f"({b}, {top} + {h} + {bottom}, {left} + {w} + {right}, {c})"
        )
        text = f"ZeroPadding2D({padding!r}) on inputs {shape}"
        found.append(LayerCase((padding,), None, text, hint, inputs=cases.normal(shape, seed) + 3))
    return found


def gradient_case() -> tuple[np.ndarray, np.ndarray]:
    """Inputs (2, 4, 5, 3) and the upstream gradient of their padding by GRADIENT_PADDING."""
    (top, bottom), (left, right) = GRADIENT_PADDING
    return cases.normal((2, 4, 5, 3), 31), cases.normal(
        (2, 4 + top + bottom, 5 + left + right, 3), 32
    )


def amounts_rows(kind: str) -> list[tuple]:
    """(k, mode, expected) of the stored cases; when grading, each with a fresh kernel size up
    to 99 of the same parity (1 stays 1: nothing to pad), then random calls (hidden)."""
    stored = PADDING_AMOUNTS_CASES[kind]
    if not cases.drawing():
        return list(stored)
    rng, modes = cases.generator(), catalogue.MODES
    calls = [(1 if k == 1 else 2 * int(rng.integers(1, 50)) + k % 2, m) for k, m, _ in stored]
    draw = lambda g: (int(g.integers(1, 100)), modes[int(g.integers(len(modes)))])  # noqa: E731
    calls = cases.pick(calls, draw, EXTRA_HIDDEN if kind == "hidden" else 0)
    return [(k, mode, expected_amounts(k, mode)) for k, mode in calls]


def padding_amounts(hidden: bool) -> list[Case]:
    """The cases of padding_amounts: a mode of None is left out of the call (the default)."""
    rows = amounts_rows("hidden" if hidden else "public")
    calls = [((k,) if mode is None else (k, mode), answer) for k, mode, answer in rows]
    return [Case(args, answer, describe_call("padding_amounts", args)) for args, answer in calls]


def _draw_conv2d_case(rng, full=False):
    """A fresh case of CONV2D_CASES's form ('valid' or 'same'), or FULL_CASES's, for grading;
    'same' and 'full' also meet images smaller than the kernel."""
    kh, kw = (int(k) for k in rng.integers(1, 6 if full else 7, size=2))
    padding = "full" if full else ("valid", "same")[int(rng.integers(2))]
    height, width = (int(v) for v in rng.integers(0, 7, size=2))
    height, width = (height + kh, width + kw) if padding == "valid" else (height + 1, width + 1)
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 7)))
    if full:
        return shape, int(rng.integers(1, 5)), (kh, kw), bool(rng.integers(4)), 0
    activation = (None, "relu", "tanh", "sigmoid")[int(rng.integers(4))]
    return shape, int(rng.integers(1, 7)), (kh, kw), padding, bool(rng.integers(4)), activation, 0


def output_shape(args, kwargs, input_shape) -> tuple:
    """Conv2D(filters, size, padding=...)'s output shape (None stays None), by the rule."""
    (filters, size), (b, *sides, _) = args, input_shape
    sides = [
        None if n is None else n + sum(expected_amounts(k, kwargs["padding"])) - k + 1
        for n, k in zip(sides, pair(size), strict=True)
    ]
    return (b, *sides, filters)


def conv_case(input_shape, filters, size, kwargs, seed, oracle=None) -> LayerCase:
    """A Conv2D case: its arguments, inputs and weights (no bias without one); the answer is
    Keras's, or `oracle(x, kernel, bias)`'s when given."""
    x, kernel, bias = random_conv(input_shape, filters, size, seed)
    bias = bias if kwargs["use_bias"] else None
    (kh, kw), (b, h, w, _), mode = pair(size), input_shape, kwargs["padding"]
    (top, bottom), (left, right) = expected_amounts(kh, mode), expected_amounts(kw, mode)
    return layer_case(
        "Conv2D",
        (filters, size),
        kwargs,
        x,
        {"kernel": kernel, "bias": bias},
        "output shape = (batch, top + H + bottom - kh + 1, left + W + right - kw + 1, filters) "
        f"= ({b}, {top} + {h} + {bottom} - {kh} + 1, {left} + {w} + {right} - {kw} + 1, "
        f"{filters})",
        expected=oracle(x, kernel, bias) if oracle else None,
        layer_kwargs={**kwargs, "activation": kwargs.get("activation")},
    )


def conv2d(hidden: bool) -> list[LayerCase]:
    """The stored 'valid' and 'same' cases (fresh values and more shapes when grading)."""
    rows = cases.rows(CONV2D_CASES, hidden, _draw_conv2d_case, EXTRA_HIDDEN)
    return [
        conv_case(shape, filters, size, {"padding": mode, "use_bias": bias, "activation": f}, seed)
        for shape, filters, size, mode, bias, f, seed in rows
    ]


def full_reference(x, kernel, bias=None):
    """'full' cross-correlation with SciPy, per (input channel, filter) pair, summed; float64."""
    from scipy.signal import correlate2d

    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    (batch, *_, channels), filters = x.shape, kernel.shape[-1]
    maps = [
        [
            sum(correlate2d(x[b, :, :, c], kernel[:, :, c, f], "full") for c in range(channels))
            for f in range(filters)
        ]
        for b in range(batch)
    ]
    out = np.moveaxis(np.array(maps), 1, -1)
    return out if bias is None else out + np.asarray(bias, float)


def conv2d_full(hidden: bool) -> list[LayerCase]:
    """The stored 'full' cases, answered by SciPy (fresh values, more shapes when grading)."""
    rows = cases.rows(FULL_CASES, hidden, lambda g: _draw_conv2d_case(g, full=True), EXTRA_HIDDEN)
    return [
        conv_case(shape, filters, size, {"padding": "full", "use_bias": bias}, seed, full_reference)
        for shape, filters, size, bias, seed in rows
    ]
