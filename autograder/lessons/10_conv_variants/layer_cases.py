"""Lesson 10's layer cases, compared with Keras's DepthwiseConv2D, SeparableConv2D and
Conv2DTranspose live holding the same weights, and the 1x1 SeparableConv2D against Dense at
every pixel; when grading, hidden checks add cases drawn at random.
"""

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...twin import LayerCase
from .cases import PER_AXIS, draw_padding, draw_reach

LAYER_TOL = Tolerance(1e-4, 1e-4, "float32 sums of up to 150 products, in another order than Keras")

# DepthwiseConv2D: (input shape, kernel_size, keyword arguments, seed). Strides are equal
# along both axes: TensorFlow's depthwise convolution (hence Keras's) takes no other. The last
# hidden case (here and for SeparableConv2D) is strided 'same' on even sizes, where the padding
# differs from stride 1's: a layer that filters at stride 1 and keeps every other output
# passes every other case. The row before it (and Conv2DTranspose's last) has an activation
# and no bias: every other use_bias=False row has no activation, and a layer that activates
# only inside `if self.use_bias:` passed them all.
DEPTHWISE_LAYER_CASES = {
    "public": [
        ((2, 7, 6, 3), 3, {}, 1),
        ((2, 8, 8, 2), (3, 2), {"depth_multiplier": 2, "activation": "relu"}, 2),
        ((1, 9, 7, 3), 3, {"strides": 2, "padding": "same", "depth_multiplier": 3}, 3),
        ((2, 6, 6, 4), 2, {"use_bias": False}, 4),
    ],
    "hidden": [
        ((1, 10, 9, 2), (3, 3), {"dilation_rate": 2, "padding": "same"}, 5),
        ((2, 9, 8, 3), (4, 3), {"strides": 3, "depth_multiplier": 2, "activation": "tanh"}, 6),
        ((1, 5, 5, 6), 1, {"depth_multiplier": 4}, 7),
        ((1, 12, 6, 1), (5, 2), {"dilation_rate": (2, 1), "use_bias": False}, 8),
        ((2, 6, 5, 3), 3, {"activation": "relu", "use_bias": False}, 10),
        ((1, 8, 6, 2), 3, {"strides": 2, "padding": "same", "depth_multiplier": 2}, 9),
    ],
}
# SeparableConv2D: (input shape, filters, kernel_size, keyword arguments, seed). The first
# has filters = C * depth_multiplier, so that an output without its pointwise step keeps
# the right shape and is named.
SEPARABLE_LAYER_CASES = {
    "public": [
        ((2, 7, 6, 3), 6, 3, {"depth_multiplier": 2}, 11),
        ((2, 8, 8, 2), 5, (3, 2), {"activation": "relu"}, 12),
        ((1, 9, 7, 3), 4, 3, {"strides": 2, "padding": "same", "depth_multiplier": 3}, 13),
        ((2, 6, 6, 4), 2, 2, {"use_bias": False}, 14),
    ],
    "hidden": [
        ((1, 10, 9, 2), 3, (3, 3), {"dilation_rate": 2, "padding": "same"}, 15),
        ((2, 9, 8, 3), 7, (4, 3), {"strides": 3, "depth_multiplier": 2}, 16),
        ((1, 5, 5, 6), 2, 1, {"activation": "sigmoid"}, 17),
        ((1, 8, 8, 3), 1, (2, 2), {"depth_multiplier": 2, "use_bias": False}, 18),
        ((2, 6, 5, 2), 4, 3, {"activation": "relu", "use_bias": False}, 20),
        ((2, 8, 6, 2), 3, 3, {"strides": 2, "padding": "same"}, 19),
    ],
}
# Conv2DTranspose: (input shape, filters, kernel_size, keyword arguments, seed).
TRANSPOSE_LAYER_CASES = {
    "public": [
        ((2, 4, 4, 1), 2, 3, {"strides": 2}, 21),
        ((2, 4, 5, 3), 3, (3, 2), {"strides": 2, "padding": "same", "activation": "relu"}, 22),
        ((1, 4, 4, 2), 2, 3, {"strides": 2, "output_padding": 1}, 23),
        ((1, 5, 4, 2), 2, 3, {"strides": 2, "padding": "same", "output_padding": 0}, 24),
        ((2, 3, 3, 3), 4, 2, {"use_bias": False}, 25),
    ],
    "hidden": [
        ((1, 3, 4, 2), 3, (4, 4), {"strides": 2, "padding": "same"}, 26),
        ((1, 4, 3, 3), 2, 5, {"strides": (3, 2), "output_padding": (2, 1)}, 27),
        ((2, 3, 3, 4), 1, 1, {"strides": 3, "activation": "tanh"}, 28),
        ((1, 4, 4, 2), 2, 3, {"strides": (2, 3), "padding": "same", "output_padding": (1, 2)}, 29),
        ((1, 6, 5, 1), 3, (2, 3), {"padding": "same"}, 30),
        ((2, 3, 4, 2), 2, 3, {"strides": 2, "activation": "relu", "use_bias": False}, 31),
    ],
}

# When grading, hidden layer checks add this many cases drawn at random.
EXTRA_HIDDEN = 3


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _layer_case(name, args, row, weights, outputs, hint) -> LayerCase:
    """The case of `name(*args, **kwargs)` for `row` (input shape, ..., kwargs, seed) holding
    `weights`, and a bias of `outputs` values when use_bias."""
    shape, kwargs, seed = row[0], row[-2], row[-1]
    if kwargs.get("use_bias", True):
        weights["bias"] = cases.normal((outputs,), seed + 200)
    return LayerCase(
        args,
        None,
        f"{describe_call(name, args, kwargs)} on inputs {shape}",
        hint,
        layer_kwargs=kwargs,
        inputs=cases.normal(shape, seed),
        weights=weights,
    )


def _draw_layer(rng, filters: bool, transpose=False):
    """A fresh (input shape, [filters,] kernel_size, keyword arguments, 0) row."""
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    kwargs = {"padding": draw_padding(rng)}
    kwargs["activation"] = (None, "relu", "tanh")[int(rng.integers(3))]
    kwargs["use_bias"] = bool(rng.integers(4))
    steps = tuple(int(v) for v in rng.integers(1, 4, size=2))
    if transpose:
        kwargs["strides"] = steps
        if rng.integers(2) and (kwargs["padding"] == "valid" or (kh % 2 and kw % 2)):
            kwargs["output_padding"] = tuple(int(rng.integers(0, s)) for s in steps)
        shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 6, size=2)))
    else:
        # TensorFlow's depthwise convolution takes equal strides only
        if rng.integers(2):
            kwargs["strides"] = (steps[0], steps[0])
        else:
            kwargs["dilation_rate"] = steps
        kwargs["depth_multiplier"] = int(rng.integers(1, 4))
        dilation = kwargs.get("dilation_rate", (1, 1))
        shape = (int(rng.integers(1, 3)), *draw_reach(rng, (kh, kw), dilation))
    shape = (*shape, int(rng.integers(1, 5)))
    return (
        (shape, int(rng.integers(1, 6)), (kh, kw), kwargs, 0)
        if filters
        else (shape, (kh, kw), kwargs, 0)
    )


def depthwise_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for row in cases.rows(
        DEPTHWISE_LAYER_CASES, hidden, lambda g: _draw_layer(g, False), EXTRA_HIDDEN
    ):
        shape, size, kwargs, seed = row
        (kh, kw), channels = _pair(size), shape[-1]
        multiplier = kwargs.get("depth_multiplier", 1)
        weights = {"kernel": cases.normal((kh, kw, channels, multiplier), seed + 100)}
        hint = (
            "output shape = (batch, out_h, out_w, C * depth_multiplier), sizes as Conv2D's; "
            + PER_AXIS
        )
        found.append(
            _layer_case("DepthwiseConv2D", (size,), row, weights, channels * multiplier, hint)
        )
    return found


def separable_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for row in cases.rows(
        SEPARABLE_LAYER_CASES, hidden, lambda g: _draw_layer(g, True), EXTRA_HIDDEN
    ):
        shape, filters, size, kwargs, seed = row
        (kh, kw), channels = _pair(size), shape[-1]
        middle = channels * kwargs.get("depth_multiplier", 1)
        weights = {
            "depthwise_kernel": cases.normal((kh, kw, channels, middle // channels), seed + 100),
            "pointwise_kernel": cases.normal((1, 1, middle, filters), seed + 300, scale=0.5),
        }
        hint = f"output shape = (batch, out_h, out_w, filters), sizes as Conv2D's; {PER_AXIS}"
        found.append(_layer_case("SeparableConv2D", (filters, size), row, weights, filters, hint))
    return found


def transpose_layer(hidden: bool) -> list[LayerCase]:
    found = []
    for row in cases.rows(
        TRANSPOSE_LAYER_CASES, hidden, lambda g: _draw_layer(g, True, True), EXTRA_HIDDEN
    ):
        shape, filters, size, _, seed = row
        (kh, kw), channels = _pair(size), shape[-1]
        weights = {"kernel": cases.normal((kh, kw, filters, channels), seed + 100)}
        hint = (
            "each output size is n * s for 'same', n * s + max(k - s, 0) for 'valid'; with "
            "output_padding p, (n - 1) * s + k - 2 * pad + p (pad = k // 2 for 'same', else 0)"
        )
        found.append(_layer_case("Conv2DTranspose", (filters, size), row, weights, filters, hint))
    return found


# --- a 1x1 convolution is a Dense layer at every pixel ---------------------------------------
# (input shape, units, seed): SeparableConv2D(units, 1) with a depthwise kernel of ones
# against a Dense(units) layer applied to every pixel's channel vector.
POINTWISE_CASES = {
    "public": [((2, 5, 4, 3), 6, 41), ((1, 3, 3, 4), 2, 42)],
    "hidden": [((2, 6, 2, 5), 3, 43), ((1, 1, 1, 4), 2, 44), ((3, 4, 4, 1), 5, 45)],
}


def _draw_pointwise(rng):
    shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 7, size=3)))
    return shape, int(rng.integers(1, 7)), 0


def pointwise(hidden: bool) -> list[LayerCase]:
    found = []
    for shape, units, seed in cases.rows(POINTWISE_CASES, hidden, _draw_pointwise, 2):
        channels = shape[-1]
        x = cases.normal(shape, seed)
        dense_kernel = cases.normal((channels, units), seed + 100)
        bias = cases.normal((units,), seed + 200)
        weights = {
            "depthwise_kernel": np.ones((1, 1, channels, 1), "float32"),
            "pointwise_kernel": dense_kernel.reshape(1, 1, channels, units),
            "bias": bias,
        }
        text = (
            f"SeparableConv2D({units}, 1) with a depthwise kernel of ones on inputs {shape}, "
            f"against Dense({units}) at every pixel"
        )
        expected = x.astype(float) @ dense_kernel.astype(float) + bias
        found.append(
            LayerCase(
                (units, 1),
                expected,
                text,
                "output shape = (batch, H, W, units)",
                inputs=x,
                weights=weights,
            )
        )
    return found
