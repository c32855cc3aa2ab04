"""Known mistakes of lesson 01 (limits of fully connected layers) and the probes that reveal them.

Parameter counts are compared exactly; each count probe asks with and without biases, on an
input whose height, width and channels differ, so every mistake gives its own numbers. The
Dense probes use a non-square kernel, a non-zero bias and a non-linear activation. The
banded-matrix probes mix "valid" and "same" padding, odd and even kernels with distinct taps.
"""

import math

import numpy as np

from ...diagnosis import Mistake, Variant, same_as

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

CATALOGUE = (
    BIAS_NOT_COUNTED,
    BIAS_ALWAYS_COUNTED,
    HEIGHT_ONLY,
    CHANNELS_FORGOTTEN,
    INPUT_CHANNELS_FORGOTTEN,
    KERNEL_TRANSPOSED,
    ACTIVATION_BEFORE_BIAS,
    BIAS_MISSING,
    INITIALIZERS_IGNORED,
    MATRIX_FLIPPED,
    MATRIX_SHIFTED,
    MATRIX_TRANSPOSED,
)


def exactly(wrong):
    """A matcher: the count equals `wrong(probe)` exactly."""

    def matches(output, probe):
        value = float(np.asarray(output))
        return value == wrong(probe)

    return matches


def _with_bias(weights, biases, use_bias):
    return weights + (biases if use_bias else 0)


# --- dense_params ------------------------------------------------------------------------------


def dense_params_probes():
    return [{"n_in": 7, "units": 3, "use_bias": True}, {"n_in": 7, "units": 3, "use_bias": False}]


DENSE_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, exactly(lambda p: p["n_in"] * p["units"])),
    Variant(BIAS_ALWAYS_COUNTED, exactly(lambda p: p["n_in"] * p["units"] + p["units"])),
)


# --- mlp_params --------------------------------------------------------------------------------


def mlp_params_probes():
    shape, units = (4, 6, 3), (5, 2)
    return [
        {"input_shape": shape, "units": units, "use_bias": True},
        {"input_shape": shape, "units": units, "use_bias": False},
    ]


def _mlp(inputs, count_bias=None):
    """Counts of an MLP whose first layer sees `inputs(input_shape)` inputs."""

    def wrong(p):
        use_bias = p["use_bias"] if count_bias is None else count_bias
        sizes = [inputs(p["input_shape"]), *p["units"]]
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        return sum(_with_bias(a * b, b, use_bias) for a, b in pairs)

    return exactly(wrong)


MLP_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, _mlp(math.prod, count_bias=False)),
    Variant(BIAS_ALWAYS_COUNTED, _mlp(math.prod, count_bias=True)),
    Variant(HEIGHT_ONLY, _mlp(lambda shape: shape[0])),
    Variant(CHANNELS_FORGOTTEN, _mlp(lambda shape: shape[0] * shape[1])),
)


# --- conv2d_params -----------------------------------------------------------------------------


def conv2d_params_probes():
    return [
        {"kernel_size": (3, 2), "channels": 4, "filters": 5, "use_bias": True},
        {"kernel_size": (3, 2), "channels": 4, "filters": 5, "use_bias": False},
    ]


def _conv(channels=True, count_bias=None):
    def wrong(p):
        kh, kw = p["kernel_size"]
        use_bias = p["use_bias"] if count_bias is None else count_bias
        fan_in = kh * kw * (p["channels"] if channels else 1)
        return _with_bias(fan_in * p["filters"], p["filters"], use_bias)

    return exactly(wrong)


CONV2D_PARAMS_VARIANTS = (
    Variant(BIAS_NOT_COUNTED, _conv(count_bias=False)),
    Variant(BIAS_ALWAYS_COUNTED, _conv(count_bias=True)),
    Variant(INPUT_CHANNELS_FORGOTTEN, _conv(channels=False)),
)


# --- Dense -------------------------------------------------------------------------------------


def dense_probes():
    """Inputs (3, 5), kernel (5, 4), non-zero bias; once linear, once with a sigmoid."""
    rng = np.random.default_rng(31)
    x = rng.normal(size=(3, 5)).astype("float32")
    kernel = rng.normal(size=(5, 4)).astype("float32")
    bias = np.array([1.5, -2.0, 0.5, 3.0], dtype="float32")
    return [
        {"x": x, "kernel": kernel, "bias": bias, "activation": None},
        {"x": x, "kernel": kernel, "bias": bias, "activation": "sigmoid"},
    ]


def _activate(values, activation):
    if activation is None:
        return values
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-values))
    raise ValueError(f"no NumPy version of activation {activation!r}")


def _dense(bias_inside=True, with_bias=True):
    def wrong(p):
        linear = np.asarray(p["x"], float) @ np.asarray(p["kernel"], float)
        bias = np.asarray(p["bias"], float) if with_bias else 0.0
        if bias_inside:
            return _activate(linear + bias, p["activation"])
        return _activate(linear, p["activation"]) + bias

    return same_as(wrong)


DENSE_VARIANTS = (
    Variant(ACTIVATION_BEFORE_BIAS, _dense(bias_inside=False)),
    Variant(BIAS_MISSING, _dense(with_bias=False)),
)


def kernel_shape_mistake(found, expected) -> Mistake | None:
    """Name the mistake behind a wrongly shaped Dense kernel, if it is a known one."""
    if len(found) == 2 and tuple(found) == tuple(expected)[::-1]:
        return KERNEL_TRANSPOSED
    return None


# --- conv1d_matrix -----------------------------------------------------------------------------


def correlate1d(x, kernel, n_out, start):
    """out[i] = sum over m of kernel[m] * x[i + m + start], with x zero outside [0, n).

    `x` may hold several signals as columns, shape (n, signals). A Keras cross-correlation is
    start = 0 for "valid" and start = -((k - 1) // 2) for "same".
    """
    x = np.asarray(x, float)
    n, k = len(x), len(kernel)
    out = np.zeros((n_out, *x.shape[1:]))
    for m in range(k):
        for i in range(n_out):
            j = i + m + start
            if 0 <= j < n:
                out[i] += kernel[m] * x[j]
    return out


def layout(k, n, padding):
    """(n_out, start) of a Keras 1-D cross-correlation: output length and first input index."""
    if padding == "valid":
        return n - k + 1, 0
    return n, -((k - 1) // 2)


def matrix_of(kernel, n, n_out, start):
    """The matrix of the linear map x -> correlate1d(x, ...): its columns are the images of e_j."""
    return correlate1d(np.eye(n), kernel, n_out, start)


def conv1d_matrix_probes():
    """Odd and even kernels with distinct taps, "same" and "valid"; each with its right matrix."""
    probes = [
        {"kernel": np.array([1.0, 2.0, 4.0]), "n": 6, "padding": "same"},
        {"kernel": np.array([3.0, -1.0, 2.0, 5.0]), "n": 7, "padding": "valid"},
        {"kernel": np.array([2.0, -3.0, 1.0, 4.0]), "n": 6, "padding": "same"},
    ]
    for p in probes:
        p["expected"] = _band(p)
    return probes


def _band(p, kernel_order=1, shift=0):
    n_out, start = layout(len(p["kernel"]), p["n"], p["padding"])
    return matrix_of(p["kernel"][::kernel_order], p["n"], n_out, start + shift)


def _shifted(output, probe):
    """The right matrix, or its band moved by one column either way.

    Only consulted once some probe is known to be wrong, so at least one probe is moved.
    """
    return any(same_as(lambda p, s=s: _band(p, shift=s))(output, probe) for s in (-1, 0, 1))


CONV1D_MATRIX_VARIANTS = (
    Variant(MATRIX_TRANSPOSED, same_as(lambda p: p["expected"].T)),
    Variant(MATRIX_FLIPPED, same_as(lambda p: _band(p, kernel_order=-1))),
    Variant(MATRIX_SHIFTED, _shifted),
)
