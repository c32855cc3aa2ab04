"""Known mistakes of lesson 05 (pooling) and the probes that tell them apart.

The layer probes use 'same' padding with an odd amount of padding on both axes (so the side
that gets the extra row or column shows), negative inputs (so a zero in a padded cell beats
every real value), three channels (so pooling across channels shows) and no `strides`
argument (so the default stride shows). Everything is recomputed here in float64 NumPy.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...compare import compare
from ...diagnosis import DIAGNOSIS_TOLERANCE, Mistake, Variant, same_as
from ...keras_layers import pair

PAD_COUNTED = Mistake(
    "pad_counted",
    "padded cells counted in the average",
    "With padding='same', TensorFlow divides each window's sum by the number of real input "
    "cells in it, not by kh * kw: a corner window of a 3x3 pool that holds 4 real cells is "
    "divided by 4. (PyTorch's count_include_pad=True does what you did; Keras does not.)",
)
ACROSS_CHANNELS = Mistake(
    "across_channels",
    "pooled across channels",
    "Pooling works on each channel separately: out[b, i, j, c] depends only on channel c of "
    "the window. Reduce over the window axis only (axis 3 of pool_windows, or axes 1 and 2 "
    "for global pooling), never over the channel axis.",
)
STRIDES_DEFAULT_ONE = Mistake(
    "strides_default_one",
    "strides=None taken as 1",
    "In Keras, strides=None means strides = pool_size: MaxPooling2D(2) moves by 2 and halves "
    "the height and width. Only an explicit strides=1 moves the window one cell at a time.",
)
MAX_ZERO_PADDED = Mistake(
    "max_zero_padded",
    "padded cells filled with 0 in max pooling",
    "A padded cell must never win the max, as TensorFlow ignores it: MaxPooling2D passes "
    "pad_value=float('-inf') to pool_windows, and pool_windows fills the padded cells with its "
    "pad_value (ops.pad(..., constant_values=pad_value)): check both. A zero beats every "
    "negative input, so border windows of negative feature maps come out as 0.",
)
VALID_CEIL = Mistake(
    "valid_ceil",
    "'valid' output size rounded up",
    "With padding='valid' a window must lie entirely inside the input, so the number of "
    "windows is floor((n - k) / s) + 1; rounding up counts a last window that sticks out "
    "past the border.",
)
SAME_KEEPS_SIZE = Mistake(
    "same_keeps_size",
    "'same' output taken as the input size",
    "padding='same' keeps the size only when the stride is 1; in general it gives "
    "ceil(n / s) windows, one starting at every s-th cell.",
)
EXTRA_PAD_TOP_LEFT = Mistake(
    "extra_pad_top_left",
    "extra padding row/column put at the top/left",
    "When the padding p of an axis is odd, TensorFlow puts p // 2 cells before the input and "
    "p - p // 2 after it: the extra row goes at the bottom and the extra column at the right.",
)
KEEPDIMS_IGNORED = Mistake(
    "keepdims_ignored",
    "keepdims ignored",
    "GlobalAveragePooling2D(keepdims=True) returns (batch, 1, 1, channels) and keepdims=False "
    "returns (batch, channels): pass keepdims=self.keepdims to the mean.",
)
BATCH_AVERAGED = Mistake(
    "batch_averaged",
    "averaged over the batch too",
    "Global pooling averages each image on its own: over height and width (axes 1 and 2), "
    "not over the batch axis 0. Every image keeps its own row of the output.",
)

CATALOGUE = (
    PAD_COUNTED,
    ACROSS_CHANNELS,
    STRIDES_DEFAULT_ONE,
    MAX_ZERO_PADDED,
    VALID_CEIL,
    SAME_KEEPS_SIZE,
    EXTRA_PAD_TOP_LEFT,
    KEEPDIMS_IGNORED,
    BATCH_AVERAGED,
)


# --- float64 NumPy pooling, right and wrong ----------------------------------------------------


def output_size(n, k, s, padding, ceil_valid=False, same_keeps_size=False):
    """Windows along one axis; the flags make the catalogued mistakes."""
    if padding == "valid":
        return -(-(n - k) // s) + 1 if ceil_valid else (n - k) // s + 1
    return n if same_keeps_size else -(-n // s)


def windows(x, pool_size, strides, padding, pad_value=0.0, extra_first=False):
    """(windows, real): windows (b, oh, ow, kh * kw, C) in float64, row by row, and a mask
    (1, oh, ow, kh * kw, 1) that is True on real (not padded) cells."""
    x = np.asarray(x, float)
    (kh, kw), (sh, sw) = pool_size, strides
    _, height, width, _ = x.shape
    widths = [(0, 0), (0, 0), (0, 0), (0, 0)]
    if padding == "same":
        for axis, n, k, s in ((1, height, kh, sh), (2, width, kw, sw)):
            total = max((output_size(n, k, s, "same") - 1) * s + k - n, 0)
            small, large = total // 2, total - total // 2
            widths[axis] = (large, small) if extra_first else (small, large)
    padded = np.pad(x, widths, constant_values=pad_value)
    real = np.pad(np.ones((1, height, width, 1), bool), widths, constant_values=False)

    def gather(a):
        view = sliding_window_view(a, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # b oh ow C kh kw
        view = view.reshape(*view.shape[:4], kh * kw)
        return np.moveaxis(view, 3, 4)

    return gather(padded), gather(real)


def pool(x, pool_size, strides, padding, mode, zero_pad=False, count_pad=False, extra_first=False):
    """Max or average pooling in float64, as TensorFlow does it unless a flag says otherwise."""
    values, real = windows(x, pool_size, strides, padding, extra_first=extra_first)
    if mode == "max":
        return np.where(real | zero_pad, values, -np.inf).max(axis=3)
    counts = np.full(real.sum(axis=3).shape, real.shape[3]) if count_pad else real.sum(axis=3)
    return values.sum(axis=3) / counts


def _squeezed_match(output, wrong):
    """The output equals `wrong` once size-1 axes are dropped on both sides."""
    return compare(np.squeeze(output), np.squeeze(wrong), DIAGNOSIS_TOLERANCE) is None


def _channel_wide(output, wrong):
    """The output is `wrong` (b, ..., 1 channel) as is, squeezed or copied to every channel."""
    if _squeezed_match(output, wrong):
        return True
    output = np.asarray(output)
    if output.ndim != wrong.ndim or output.shape[:-1] != wrong.shape[:-1]:
        return False
    return compare(output, np.broadcast_to(wrong, output.shape), DIAGNOSIS_TOLERANCE) is None


# --- pool_output_size --------------------------------------------------------------------------


def output_size_probes():
    """One probe: a grid of (n, k, s, padding) where every catalogued mistake shows."""
    cases = [
        (n, k, s, padding)
        for n in (5, 7, 8, 10)
        for k in (2, 3)
        for s in (1, 2, 3)
        for padding in ("valid", "same")
    ]
    return [{"cases": cases}]


def _sizes(**flags):
    return same_as(lambda p: np.array([output_size(*case, **flags) for case in p["cases"]]))


# The output-size mistakes and the flags of `output_size` that make them.
SIZE_MISTAKES = ((VALID_CEIL, {"ceil_valid": True}), (SAME_KEEPS_SIZE, {"same_keeps_size": True}))
OUTPUT_SIZE_VARIANTS = tuple(Variant(mistake, _sizes(**flags)) for mistake, flags in SIZE_MISTAKES)


def output_shape_mistake(pool_size, kwargs, input_shape, expected, found):
    """Name the output-size mistake that gives the shape `found` instead of `expected`."""
    (kh, kw), (sh, sw) = pair(pool_size), pair(kwargs.get("strides") or pool_size)
    batch, height, width, channels = input_shape
    padding = kwargs.get("padding", "valid")
    for mistake, flags in SIZE_MISTAKES:
        sizes = [
            None if n is None else output_size(n, k, s, padding, **flags)
            for n, k, s in ((height, kh, sh), (width, kw, sw))
        ]
        wrong = (batch, *sizes, channels)
        if wrong != tuple(expected) and found == wrong:
            return mistake
    return None


# --- pool_windows ------------------------------------------------------------------------------


def sorted_windows(values):
    """Windows with their entries sorted: pool_windows may list a window in any order."""
    return np.sort(np.asarray(values, float), axis=3)


def windows_probes():
    """'same' padding, odd padding on both axes, a pad value no input holds."""
    x = np.random.default_rng(51).normal(size=(2, 8, 7, 3)).astype("float32")
    return [{"x": x, "pool_size": (3, 2), "strides": (3, 2), "padding": "same", "pad_value": 9.0}]


def _windows(pad_value=None, extra_first=False):
    def wrong(probe):
        value = probe["pad_value"] if pad_value is None else pad_value
        args = (probe["x"], probe["pool_size"], probe["strides"], probe["padding"])
        return sorted_windows(windows(*args, pad_value=value, extra_first=extra_first)[0])

    return lambda output, probe: (
        compare(sorted_windows(output), wrong(probe), DIAGNOSIS_TOLERANCE) is None
    )


WINDOWS_VARIANTS = (
    Variant(EXTRA_PAD_TOP_LEFT, _windows(extra_first=True)),
    Variant(MAX_ZERO_PADDED, _windows(pad_value=0.0)),
)


# --- MaxPooling2D and AveragePooling2D ---------------------------------------------------------


def layer_probes(mode):
    """Two layer set-ups: 'same' without strides on negative inputs, 'valid' with strides."""
    rng = np.random.default_rng(52)
    negative = -rng.uniform(0.5, 3.0, size=(2, 8, 7, 3)).astype("float32")
    mixed = rng.normal(size=(2, 9, 8, 3)).astype("float32")
    return [
        {"mode": mode, "x": negative, "pool_size": (3, 2), "strides": None, "padding": "same"},
        {"mode": mode, "x": mixed, "pool_size": (2, 3), "strides": (2, 1), "padding": "valid"},
    ]


def _pool(probe, strides=None, **flags):
    strides = strides or probe["strides"] or probe["pool_size"]
    return pool(probe["x"], probe["pool_size"], strides, probe["padding"], probe["mode"], **flags)


def _across_channels(output, probe):
    """One value per window for all channels together (max or mean over window and channels)."""
    strides = probe["strides"] or probe["pool_size"]
    values, real = windows(probe["x"], probe["pool_size"], strides, probe["padding"])
    if probe["mode"] == "max":
        wrong = np.where(real, values, -np.inf).max(axis=(3, 4))
    else:
        wrong = values.sum(axis=(3, 4)) / (real.sum(axis=(3, 4)) * values.shape[4])
    return _channel_wide(output, wrong[..., None])


_STRIDES_ONE = same_as(lambda p: _pool(p, strides=(1, 1) if p["strides"] is None else None))
MAX_VARIANTS = (
    Variant(STRIDES_DEFAULT_ONE, _STRIDES_ONE),
    Variant(MAX_ZERO_PADDED, same_as(lambda p: _pool(p, zero_pad=True))),
    Variant(EXTRA_PAD_TOP_LEFT, same_as(lambda p: _pool(p, extra_first=True))),
    Variant(ACROSS_CHANNELS, _across_channels),
)
AVERAGE_VARIANTS = (
    Variant(STRIDES_DEFAULT_ONE, _STRIDES_ONE),
    Variant(PAD_COUNTED, same_as(lambda p: _pool(p, count_pad=True))),
    Variant(EXTRA_PAD_TOP_LEFT, same_as(lambda p: _pool(p, extra_first=True))),
    Variant(ACROSS_CHANNELS, _across_channels),
)


# --- GlobalAveragePooling2D --------------------------------------------------------------------


def global_probes():
    x = np.random.default_rng(53).normal(size=(2, 5, 6, 3)).astype("float32")
    return [{"x": x, "keepdims": False}, {"x": x, "keepdims": True}]


def _mean(axis, keepdims=None):
    def wrong(probe):
        keep = probe["keepdims"] if keepdims is None else keepdims
        return np.asarray(probe["x"], float).mean(axis=axis, keepdims=keep)

    return wrong


GLOBAL_VARIANTS = (
    Variant(KEEPDIMS_IGNORED, same_as(_mean((1, 2), keepdims=False))),
    Variant(KEEPDIMS_IGNORED, same_as(_mean((1, 2), keepdims=True))),
    Variant(BATCH_AVERAGED, lambda out, p: _squeezed_match(out, _mean((0, 1, 2))(p))),
    Variant(ACROSS_CHANNELS, lambda out, p: _squeezed_match(out, _mean((1, 2, 3))(p))),
    Variant(ACROSS_CHANNELS, lambda out, p: _squeezed_match(out, _mean(3)(p))),
)
