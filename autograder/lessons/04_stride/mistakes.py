"""Known mistakes of lesson 04 (stride and dilation) and the probes that tell them apart.

The probes mix strides and dilations that differ per axis and from each other (so swapping
them shows), input sizes that are not multiples of the stride (so rounding shows), and
even input sizes with odd kernels under "same" (where TensorFlow's strided padding differs
from the stride-1 rule).
"""

from functools import partial

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...diagnosis import Mistake, Variant, same_as

CEIL_NOT_FLOOR = Mistake(
    "ceil_not_floor",
    "ceil instead of floor",
    "A window counts only if it fits entirely in the (padded) input, so the number of "
    "positions rounds down: floor((n + p - d(k - 1) - 1) / s) + 1. Only 'same' gives "
    "ceil(n / s), because TensorFlow chooses its padding for that.",
)
STRIDE_IGNORED = Mistake(
    "stride_ignored",
    "stride ignored in the output size",
    "Windows start every s pixels, so the output size is divided by the stride: "
    "floor((n + p - d(k - 1) - 1) / s) + 1, and ceil(n / s) for 'same'. Yours gives the "
    "stride-1 size.",
)
SAME_PADDING_STRIDE_ONE = Mistake(
    "same_padding_stride_one",
    "'same' padding computed as for stride 1",
    "With a stride, 'same' pads just enough for ceil(n / s) windows to fit: "
    "max((ceil(n / s) - 1) s + d(k - 1) + 1 - n, 0) zeros in all, half (rounded down) "
    "before and the rest after. That total depends on n and s; d(k - 1) zeros, or k // 2 "
    "on each side, is the stride-1 rule and shifts every window.",
)
STRIDE_AS_DILATION = Mistake(
    "stride_as_dilation",
    "stride applied as dilation",
    "The stride is the step between two windows: window (i, j) starts at input pixel "
    "(i s, j s). The dilation is the spacing between the taps of one window: tap (m, n) "
    "reads pixel (i s + m d, j s + n d). Yours spaces the taps by the stride (or moves the "
    "windows by the dilation).",
)
DILATION_ON_INPUT = Mistake(
    "dilation_on_input",
    "dilation applied to the input instead of the kernel",
    "A dilated convolution spreads the kernel's taps d pixels apart over the unchanged "
    "input: tap (m, n) reads x[i s + m d, j s + n d]. Yours changes the input instead "
    "(zeros inserted between its pixels, or every d-th pixel kept) and slides a compact "
    "kernel over it.",
)
JUMP_IGNORED = Mistake(
    "jump_ignored",
    "strides of earlier layers ignored",
    "After a layer with stride s, neighbouring outputs are s input pixels apart, so each "
    "later layer widens the receptive field by d (k - 1) times the product of all earlier "
    "strides: r = 1 + sum of d_l (k_l - 1) j_l, with j_l = s_1 s_2 ... s_(l-1).",
)
OWN_STRIDE_COUNTED = Mistake(
    "own_stride_counted",
    "a layer's own stride counted in its growth",
    "A layer's stride spaces out its outputs, not its own window: layer l widens the field "
    "by d_l (k_l - 1) j_l with j_l the product of the strides of the layers BEFORE it. "
    "Update the jump after adding the layer's growth, not before.",
)

CATALOGUE = (
    CEIL_NOT_FLOOR,
    STRIDE_IGNORED,
    SAME_PADDING_STRIDE_ONE,
    STRIDE_AS_DILATION,
    DILATION_ON_INPUT,
    JUMP_IGNORED,
    OWN_STRIDE_COUNTED,
)


# --- sizes and padding, right and wrong --------------------------------------------------------


def span(k, d):
    return d * (k - 1) + 1


def output_size(n, k, s=1, mode="valid", d=1, rounding=np.floor, stride=True):
    """conv_output_size, with the rounding and the use of the stride as parameters."""
    s = s if stride else 1
    if mode == "same":
        return int(np.ceil(n / s))
    added = 0 if mode == "valid" else 2 * (span(k, d) - 1)
    return int(rounding((n + added - span(k, d)) / s)) + 1


def amounts(n, k, s=1, mode="valid", d=1):
    """TensorFlow's (before, after) padding along one axis."""
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (span(k, d) - 1, span(k, d) - 1)
    total = max((int(np.ceil(n / s)) - 1) * s + span(k, d) - n, 0)
    return (total // 2, total - total // 2)


def amounts_stride_one(n, k, s=1, mode="valid", d=1, half_kernel=False):
    """'same' padded as for stride 1: the total d(k - 1), split as TensorFlow splits it, or
    (`half_kernel`) span // 2 zeros on each side, whatever the stride."""
    if mode != "same":
        return amounts(n, k, s, mode, d)
    total = span(k, d) - 1
    return (span(k, d) // 2,) * 2 if half_kernel else (total // 2, total - total // 2)


amounts_half_kernel = partial(amounts_stride_one, half_kernel=True)


# --- conv_output_size --------------------------------------------------------------------------

SIZE_CALLS = [
    (n, k, s, mode, d)
    for n, k in ((7, 3), (8, 2), (10, 4))
    for s, d in ((1, 1), (2, 1), (3, 1), (1, 2))
    for mode in ("valid", "same", "full")
]


def conv_output_size_probes():
    """One probe: the output size of 36 (n, k, s, padding, d) calls, as a vector."""
    return [{"calls": SIZE_CALLS}]


def _answers(rule, **options):
    """A matcher: the output lists `rule(*call, **options)` for each of the probe's calls."""
    return same_as(lambda p: np.array([rule(*c, **options) for c in p["calls"]], float))


CONV_OUTPUT_SIZE_VARIANTS = (
    Variant(CEIL_NOT_FLOOR, _answers(output_size, rounding=np.ceil)),
    Variant(STRIDE_IGNORED, _answers(output_size, stride=False)),
)


# --- padding_amounts ---------------------------------------------------------------------------

AMOUNT_CALLS = [
    (n, k, s, "same", d)
    for n in (7, 8, 9)
    for k in (2, 3, 4)
    for s, d in ((1, 1), (2, 1), (3, 1), (1, 2))
]


def padding_amounts_probes():
    """One probe: the 'same' padding of 36 (n, k, s, d) calls, as a (36, 2) table."""
    return [{"calls": AMOUNT_CALLS}]


PADDING_AMOUNTS_VARIANTS = (
    Variant(SAME_PADDING_STRIDE_ONE, _answers(amounts_stride_one)),
    Variant(SAME_PADDING_STRIDE_ONE, _answers(amounts_half_kernel)),
)


# --- im2col ------------------------------------------------------------------------------------


def patches(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    """im2col in float64: windows (i, j) list x[i sh + m dh, j sw + n dw, c] in order (m, n, c)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = np.asarray(x, float)
    windows = sliding_window_view(x, (span(kh, dh), span(kw, dw)), axis=(1, 2))
    windows = windows[:, ::sh, ::sw, :, ::dh, ::dw]  # batch, i, j, c, m, n
    windows = np.moveaxis(windows, 3, 5)  # batch, i, j, m, n, c
    return windows.reshape(*windows.shape[:3], -1)


def dilate_input(x, dilation_rate):
    """Zeros inserted between the pixels of x: d - 1 after each pixel but the last."""
    (dh, dw), x = dilation_rate, np.asarray(x, float)
    batch, height, width, channels = x.shape
    out = np.zeros((batch, dh * (height - 1) + 1, dw * (width - 1) + 1, channels))
    out[:, ::dh, ::dw] = x
    return out


# Wrong im2cols: the stride used as the dilation and the dilation as the stride; zeros
# inserted into the input, then a compact kernel; every d-th input pixel kept, then a compact
# kernel.
IM2COL_WRONG = (
    (STRIDE_AS_DILATION, lambda x, size, strides, dilation: patches(x, size, dilation, strides)),
    (
        DILATION_ON_INPUT,
        lambda x, size, strides, dilation: patches(dilate_input(x, dilation), size, strides),
    ),
    (
        DILATION_ON_INPUT,
        lambda x, size, strides, dilation: patches(
            x[:, :: dilation[0], :: dilation[1]], size, strides
        ),
    ),
)


def im2col_probes():
    """Inputs (2, 9, 8, 3) with integer values, one strided and one dilated call."""
    x = np.random.default_rng(41).integers(-9, 10, size=(2, 9, 8, 3)).astype(float)
    return [
        {"x": x, "kernel_size": (3, 2), "strides": (2, 3), "dilation_rate": (1, 1)},
        {"x": x, "kernel_size": (2, 3), "strides": (1, 1), "dilation_rate": (3, 2)},
    ]


def _im2col_variant(wrong):
    return same_as(lambda p: wrong(p["x"], p["kernel_size"], p["strides"], p["dilation_rate"]))


IM2COL_VARIANTS = tuple(Variant(mistake, _im2col_variant(wrong)) for mistake, wrong in IM2COL_WRONG)


# --- Conv2D ------------------------------------------------------------------------------------


def conv2d_probes():
    """A strided 'same' probe (even height, odd kernel) and a dilated 'same' probe."""
    rng = np.random.default_rng(42)
    probes = []
    for shape, size, strides, dilation in (
        ((2, 8, 7, 3), (3, 2), (2, 3), (1, 1)),
        ((1, 9, 8, 2), (3, 2), (1, 1), (2, 3)),
    ):
        probes.append(
            {
                "x": rng.normal(size=shape).astype("float32"),
                "kernel": rng.normal(size=(*size, shape[-1], 2)).astype("float32"),
                "bias": np.array([0.5, -1.5], dtype="float32"),
                "kernel_size": size,
                "strides": strides,
                "dilation_rate": dilation,
                "padding": "same",
            }
        )
    return probes


def conv(p, rule=amounts, windows=patches):
    """The probe's convolution in float64, padded by `rule`, windows gathered by `windows`."""
    x = np.asarray(p["x"], float)
    geometry = zip(x.shape[1:3], p["kernel_size"], p["strides"], p["dilation_rate"], strict=True)
    pads = [rule(n, k, s, p["padding"], d) for n, k, s, d in geometry]
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    cols = windows(x, p["kernel_size"], p["strides"], p["dilation_rate"])
    return cols @ np.asarray(p["kernel"], float).reshape(-1, p["kernel"].shape[-1]) + p["bias"]


CONV2D_VARIANTS = (
    *(Variant(m, same_as(lambda p, w=w: conv(p, windows=w))) for m, w in IM2COL_WRONG),
    Variant(SAME_PADDING_STRIDE_ONE, same_as(lambda p: conv(p, rule=amounts_stride_one))),
    Variant(SAME_PADDING_STRIDE_ONE, same_as(lambda p: conv(p, rule=amounts_half_kernel))),
)


# --- receptive_field ---------------------------------------------------------------------------

STACKS = [
    [(3, 2, 1), (3, 2, 1), (3, 1, 1)],
    [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(4, 3, 1), (3, 2, 1)],
]


def receptive_field_probes():
    """One probe: the receptive fields of four stacks, as a vector."""
    return [{"stacks": STACKS}]


def field(layers, jump_ignored=False, own_stride=False):
    """The receptive field of `layers`, or what one of the two mistakes gives."""
    r, jump = 1, 1
    for k, s, d in layers:
        if own_stride:
            jump *= s
        r += d * (k - 1) * (1 if jump_ignored else jump)
        if not own_stride:
            jump *= s
    return r


def _fields(**options):
    return same_as(lambda p: np.array([field(stack, **options) for stack in p["stacks"]], float))


RECEPTIVE_FIELD_VARIANTS = (
    Variant(JUMP_IGNORED, _fields(jump_ignored=True)),
    Variant(OWN_STRIDE_COUNTED, _fields(own_stride=True)),
)
