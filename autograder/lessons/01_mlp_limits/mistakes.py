"""Known mistakes of lesson 01 (limits of fully connected layers) and the probes that reveal them.

Parameter counts are compared exactly; each count probe asks with and without biases, on an
input whose height, width and channels differ, so every mistake gives its own numbers. The
Dense probes use a non-square kernel, a non-zero bias and a non-linear activation. The
banded-matrix probes mix "valid" and "same" padding, odd and even kernels with distinct taps.
"""

import numpy as np

from ...diagnosis import Mistake, Variant, same_as
from .cases import conv2d_count, dense_count, expected_matrix, mlp_count

# --- parameter counts --------------------------------------------------------------------------

BIAS_NOT_COUNTED = Mistake(
    "bias_not_counted",
    "biases left out of the count",
    "With use_bias=True a layer also learns one bias per unit (per filter for Conv2D): add "
    "them to the weights. The lecture's 30,730,100 for a 640x480 image counts weights only.",
)
BIAS_ALWAYS_COUNTED = Mistake(
    "bias_always_counted",
    "use_bias ignored in the count",
    "With use_bias=False the layer has no bias at all: count the weights only.",
)
HEIGHT_ONLY = Mistake(
    "height_only",
    "only the image height counted as inputs",
    "Flatten turns an image of shape (H, W) or (H, W, C) into H * W (* C) inputs, and every "
    "one of them is connected to every unit of the first Dense layer.",
)
CHANNELS_FORGOTTEN = Mistake(
    "channels_forgotten",
    "colour channels left out of the input size",
    "A colour image of shape (H, W, C) flattens to H * W * C inputs, not H * W: multiply all "
    "the entries of input_shape.",
)
INPUT_CHANNELS_FORGOTTEN = Mistake(
    "input_channels_forgotten",
    "input channels left out of the kernel size",
    "Each filter reaches through all input channels: it holds kh * kw * channels weights (plus "
    "one bias), not kh * kw.",
)

# --- Dense -------------------------------------------------------------------------------------

KERNEL_TRANSPOSED = Mistake(
    "kernel_transposed",
    "kernel transposed",
    "Keras stores the kernel as (input_dim, units) and computes inputs @ kernel. A kernel of "
    "shape (units, input_dim) used as inputs @ kernel.T computes the same function but its "
    "weights cannot be exchanged with keras.layers.Dense.",
)
ACTIVATION_BEFORE_BIAS = Mistake(
    "activation_before_bias",
    "activation applied before the bias",
    "The bias belongs inside the activation: activation(inputs @ kernel + bias), not "
    "activation(inputs @ kernel) + bias.",
)
BIAS_MISSING = Mistake(
    "bias_missing",
    "bias missing",
    "Add the bias to the output (inputs @ kernel + self.bias) before the activation, when "
    "use_bias is True.",
)
INITIALIZERS_IGNORED = Mistake(
    "initializers_ignored",
    "the layer's initializers, regularizers or constraints not passed to add_weight",
    "Create each weight with initializer=self.kernel_initializer (self.bias_initializer), "
    "regularizer=self.kernel_regularizer and constraint=self.kernel_constraint, so that the "
    "arguments given to the constructor take effect.",
)

# --- the banded (Toeplitz) matrix ----------------------------------------------------------------

MATRIX_FLIPPED = Mistake(
    "matrix_flipped",
    "kernel flipped in the matrix (true convolution)",
    "Keras layers cross-correlate: output i is sum over m of kernel[m] * x[i + m - left]. "
    "Reading the taps from right to left along a row gives the convolution of signal "
    "processing instead.",
)
MATRIX_SHIFTED = Mistake(
    "matrix_shifted",
    "band shifted by one column",
    "Row i must start at column i - left, where left = 0 for 'valid' and (k - 1) // 2 for "
    "'same' (with a 3-tap kernel, row 0 of the same-size matrix is [w2, w3, 0, ...]).",
)
MATRIX_TRANSPOSED = Mistake(
    "matrix_transposed",
    "matrix transposed",
    "Row i of the matrix belongs to output i and column j to input j, so T has shape "
    "(n_out, n) and T @ x has one entry per output.",
)

CATALOGUE = tuple(m for m in tuple(globals().values()) if isinstance(m, Mistake))

# --- parameter counts: each probe asked with and without biases ---------------------------------


def _bias_probes(**probe):
    return lambda: [{**probe, "use_bias": True}, {**probe, "use_bias": False}]


dense_params_probes = _bias_probes(n_in=7, units=3)
mlp_params_probes = _bias_probes(input_shape=(4, 6, 3), units=(5, 2))
conv2d_params_probes = _bias_probes(kernel_size=(3, 2), channels=4, filters=5)


def counted(oracle, **change):
    """A matcher: the count is exactly `oracle`'s on the probe with one argument changed (to a
    value, or by a function of the probe's value)."""

    def matches(output, probe):
        wrong = {k: v(probe[k]) if callable(v) else v for k, v in change.items()}
        return float(np.asarray(output)) == oracle(**{**probe, **wrong})

    return matches


DENSE_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, counted(dense_count, use_bias=False)),
    Variant(BIAS_ALWAYS_COUNTED, counted(dense_count, use_bias=True)),
)
MLP_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, counted(mlp_count, use_bias=False)),
    Variant(BIAS_ALWAYS_COUNTED, counted(mlp_count, use_bias=True)),
    Variant(HEIGHT_ONLY, counted(mlp_count, input_shape=lambda shape: shape[:1])),
    Variant(CHANNELS_FORGOTTEN, counted(mlp_count, input_shape=lambda shape: shape[:2])),
)
CONV2D_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, counted(conv2d_count, use_bias=False)),
    Variant(BIAS_ALWAYS_COUNTED, counted(conv2d_count, use_bias=True)),
    Variant(INPUT_CHANNELS_FORGOTTEN, counted(conv2d_count, channels=1)),
)

# --- Dense -------------------------------------------------------------------------------------


def dense_probes():
    """Inputs (3, 5), kernel (5, 4), non-zero bias; once linear, once with a sigmoid."""
    rng = np.random.default_rng(31)
    x = rng.normal(size=(3, 5)).astype("float32")
    kernel = rng.normal(size=(5, 4)).astype("float32")
    bias = np.array([1.5, -2.0, 0.5, 3.0], dtype="float32")
    return [{"x": x, "kernel": kernel, "bias": bias, "activation": a} for a in (None, "sigmoid")]


def _dense(bias_inside=True, with_bias=True):
    """Dense's output (linear or sigmoid), with the bias moved out of the activation or left out."""

    def wrong(p):
        sigmoid = p["activation"] == "sigmoid"
        activate = (lambda v: 1 / (1 + np.exp(-v))) if sigmoid else (lambda v: v)
        linear = np.asarray(p["x"], float) @ np.asarray(p["kernel"], float)
        bias = np.asarray(p["bias"], float) if with_bias else 0.0
        return activate(linear + bias) if bias_inside else activate(linear) + bias

    return same_as(wrong)


DENSE_VARIANTS = (
    Variant(ACTIVATION_BEFORE_BIAS, _dense(bias_inside=False)),
    Variant(BIAS_MISSING, _dense(with_bias=False)),
)


def kernel_shape_mistake(key, found, expected) -> Mistake | None:
    """Name the mistake behind a wrongly shaped Dense weight, if it is a known one."""
    if key == "kernel" and len(found) == 2 and tuple(found) == tuple(expected)[::-1]:
        return KERNEL_TRANSPOSED
    return None


# --- conv1d_matrix -----------------------------------------------------------------------------


def conv1d_matrix_probes():
    """Odd and even kernels with distinct taps, "same" and "valid"; each with its right matrix."""
    probes = [
        {"kernel": np.array([1.0, 2.0, 4.0]), "n": 6, "padding": "same"},
        {"kernel": np.array([3.0, -1.0, 2.0, 5.0]), "n": 7, "padding": "valid"},
        {"kernel": np.array([2.0, -3.0, 1.0, 4.0]), "n": 6, "padding": "same"},
    ]
    return [{**p, "expected": _band(p)} for p in probes]


def _band(p, kernel_order=1, shift=0):
    return expected_matrix(p["kernel"][::kernel_order], p["n"], p["padding"], shift)


def _shifted(output, probe):
    """The right matrix, or its band moved by one column either way: consulted only once some
    probe is wrong (the right matrix is matched first), so at least one probe is moved."""
    return any(same_as(lambda p, s=s: _band(p, shift=s))(output, probe) for s in (-1, 0, 1))


CONV1D_MATRIX_VARIANTS = (
    Variant(None, same_as(lambda p: p["expected"])),  # right on every probe: no mistake to name
    Variant(MATRIX_TRANSPOSED, same_as(lambda p: p["expected"].T)),
    Variant(MATRIX_FLIPPED, same_as(lambda p: _band(p, kernel_order=-1))),
    Variant(MATRIX_SHIFTED, _shifted),
)
