"""Known mistakes of lesson 02 (convolution) and the probes that tell them apart.

Each probe is a small input on which every mistake gives a different output: an asymmetric
square kernel (so flipping and transposing both show), distinct sizes for height, width,
channels and filters (so axis mix-ups show), and a non-zero bias.
"""

from functools import partial

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...diagnosis import Mistake, Variant, same_as
from ...oracles import correlate

FLIPPED_KERNEL = Mistake(
    "flipped_kernel",
    "true convolution (kernel flipped)",
    "Keras layers compute cross-correlation: out[i, j] = sum x[i + m, j + n] * k[m, n]. "
    "Do not flip the kernel (no k[kh - 1 - m, kw - 1 - n], no [::-1]).",
)
KERNEL_AXES_SWAPPED = Mistake(
    "kernel_axes_swapped",
    "kernel rows and columns swapped",
    "The kernel is indexed k[m, n] with m along the image height and n along the width; "
    "your code reads k[n, m] (or transposes the kernel).",
)
BIAS_MISSING = Mistake(
    "bias_missing",
    "bias missing",
    "Add the bias of each filter to every output position (outputs + self.bias) before the "
    "activation, when use_bias is True.",
)
OUTPUT_ONE_SHORT = Mistake(
    "output_one_short",
    "output one row/column short",
    "A valid cross-correlation has n - k + 1 positions along an axis of size n with a kernel "
    "of size k; your loop or slice stops one position early (range(n - k)).",
)
OUTPUT_ONE_LONG = Mistake(
    "output_one_long",
    "output one row/column too long",
    "A valid cross-correlation has n - k + 1 positions along an axis of size n with a kernel "
    "of size k; your loop or slice runs one position too far (range(n - k + 2)), past the "
    "last full window.",
)
CHANNELS_FIRST = Mistake(
    "channels_first",
    "channels-first confusion",
    "Keras images are channels_last: (batch, height, width, channels), and the kernel is "
    "(kh, kw, in_channels, filters). Your code treats axis 1 as the channels.",
)
CHANNELS_NOT_SUMMED = Mistake(
    "channels_not_summed",
    "input channels not summed",
    "Each filter sees all input channels: out[..., f] = sum over m, n and c of "
    "x[i + m, j + n, c] * k[m, n, c, f]. Sum over the channel axis too (not a mean, not "
    "one output per channel).",
)
PATCH_COLUMN_MAJOR = Mistake(
    "patch_column_major",
    "patch read column by column",
    "Each row of im2col must list the patch as kernel.reshape(-1, filters) does: row m, then "
    "column n, then channel c (channel fastest). Yours walks down the columns first.",
)
PATCH_CHANNEL_FIRST = Mistake(
    "patch_channel_first",
    "channel placed first in each patch",
    "In a channels-last kernel the channel index changes fastest: the patch order is "
    "(m, n, c), not (c, m, n).",
)

CATALOGUE = tuple(m for m in tuple(globals().values()) if isinstance(m, Mistake))


def patches(x, kernel_size, order="mnc", flip=False):
    """im2col in float64 with the patch entries in the given order of (m, n, c)."""
    kh, kw = kernel_size
    windows = sliding_window_view(np.asarray(x, float), (kh, kw), axis=(1, 2))  # N H W c m n
    if flip:
        windows = windows[..., ::-1, ::-1]
    axes = {"m": 4, "n": 5, "c": 3}
    windows = np.moveaxis(windows, [axes[a] for a in order], [3, 4, 5])
    return windows.reshape(*windows.shape[:3], -1)


def _spatial_offset(output, probe, delta):
    """The output's spatial size is off by `delta` (on at least one axis, never the other way);
    the spatial axes are the last two of a 2-D probe, else the middle two."""
    expected = probe["expected_shape"]
    axes = (0, 1) if len(expected) == 2 else (1, 2)
    if output.ndim != len(expected):
        return False
    if any(output.shape[a] != expected[a] for a in range(len(expected)) if a not in axes):
        return False
    offsets = [output.shape[a] - expected[a] for a in axes]
    return delta in offsets and all(o in (0, delta) for o in offsets)


one_short = partial(_spatial_offset, delta=-1)
one_long = partial(_spatial_offset, delta=+1)


# --- cross_correlate2d: one channel ----------------------------------------------------------


def cross_correlate2d_probes():
    rng = np.random.default_rng(2024)
    x = rng.integers(-3, 4, size=(6, 7)).astype(float)
    kernel = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 1.0], [2.0, 0.0, -2.0]])
    expected = correlate(x[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]
    return [{"x": x, "kernel": kernel, "expected_shape": expected.shape}]


def _one_channel(kernel_transform):
    def wrong(p):
        k = kernel_transform(p["kernel"])
        return correlate(p["x"][None, :, :, None], k[:, :, None, None])[0, :, :, 0]

    return same_as(wrong)


CROSS_CORRELATE2D_VARIANTS = (
    Variant(FLIPPED_KERNEL, _one_channel(lambda k: k[::-1, ::-1])),
    Variant(KERNEL_AXES_SWAPPED, _one_channel(lambda k: k.T)),
    Variant(OUTPUT_ONE_SHORT, one_short),
    Variant(OUTPUT_ONE_LONG, one_long),
)


# --- im2col ------------------------------------------------------------------------------------


def im2col_probes():
    rng = np.random.default_rng(7)
    x = rng.integers(-9, 10, size=(2, 5, 6, 3)).astype(float)
    return [{"x": x, "kernel_size": (3, 3), "expected_shape": (2, 3, 4, 27)}]


IM2COL_VARIANTS = (
    Variant(PATCH_COLUMN_MAJOR, same_as(lambda p: patches(p["x"], p["kernel_size"], "nmc"))),
    Variant(PATCH_CHANNEL_FIRST, same_as(lambda p: patches(p["x"], p["kernel_size"], "cmn"))),
    Variant(FLIPPED_KERNEL, same_as(lambda p: patches(p["x"], p["kernel_size"], flip=True))),
    Variant(OUTPUT_ONE_SHORT, one_short),
    Variant(OUTPUT_ONE_LONG, one_long),
)


# --- Conv2D ------------------------------------------------------------------------------------


def conv2d_probes():
    """Inputs (2, 6, 7, 3), a 3x3 kernel with 3 input channels and 4 filters, non-zero bias."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 6, 7, 3)).astype("float32")
    kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    bias = np.array([0.5, -1.0, 2.0, 0.25], dtype="float32")
    return [{"x": x, "kernel": kernel, "bias": bias, "expected_shape": (2, 4, 5, 4)}]


def _conv(kernel_transform=lambda k: k, with_bias=True, scale=1.0):
    def wrong(p):
        out = correlate(p["x"], kernel_transform(p["kernel"])) * scale
        return out + p["bias"] if with_bias else out

    return same_as(wrong)


def _channels_first_output(output, probe):
    """Filters on axis 1 instead of the last axis (a channels-first output)."""
    filters = probe["kernel"].shape[-1]
    return output.ndim == 4 and output.shape[1] == filters and output.shape[-1] != filters


def _channels_kept(output, probe):
    """One output per (input channel, filter) pair instead of a sum over input channels."""
    channels, filters = probe["kernel"].shape[2:]
    spatial = probe["expected_shape"][:3]
    return output.shape in ((*spatial, channels, filters), (*spatial, channels * filters))


CONV2D_VARIANTS = (
    Variant(FLIPPED_KERNEL, _conv(lambda k: k[::-1, ::-1])),
    Variant(KERNEL_AXES_SWAPPED, _conv(lambda k: k.transpose(1, 0, 2, 3))),
    Variant(BIAS_MISSING, _conv(with_bias=False)),
    Variant(OUTPUT_ONE_SHORT, one_short),
    Variant(OUTPUT_ONE_LONG, one_long),
    Variant(CHANNELS_FIRST, _channels_first_output),
    Variant(CHANNELS_NOT_SUMMED, _channels_kept),
    Variant(CHANNELS_NOT_SUMMED, _conv(scale=1 / 3)),
)


def kernel_shape_mistake(key, found, expected, input_shape) -> Mistake | None:
    """Name the mistake behind a wrongly shaped kernel weight, if it is a known one."""
    if key != "kernel":
        return None
    if len(found) == 4 and found[:2] == expected[:2] and found[3] == expected[3]:
        if found[2] == input_shape[1] and found[2] != expected[2]:
            return CHANNELS_FIRST
    if tuple(found) == (expected[1], expected[0], *expected[2:]):
        return KERNEL_AXES_SWAPPED
    return None
