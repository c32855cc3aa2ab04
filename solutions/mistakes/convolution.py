"""Wrong versions of lesson 02's code, each making one catalogued mistake.

Written the way students write them (loops, einsum, slices), not as edits of the reference.
"""

import numpy as np
from keras import ops

from solutions.convolution import im2col
from solutions.mistakes import WrongVersion


def cross_correlate2d_flipped(x, kernel):
    """True convolution: the kernel is flipped before sliding."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    flipped = kernel[::-1, ::-1]
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * flipped)
    return out


def cross_correlate2d_one_short(x, kernel):
    """Loops stop one position early: range(H - kh) instead of range(H - kh + 1)."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((x.shape[0] - kh, x.shape[1] - kw))
    for i in range(x.shape[0] - kh):
        for j in range(x.shape[1] - kw):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * kernel)
    return out


def cross_correlate2d_one_long(x, kernel):
    """The output array is allocated one row and column too large."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((x.shape[0] - kh + 2, x.shape[1] - kw + 2))
    for i in range(x.shape[0] - kh + 1):
        for j in range(x.shape[1] - kw + 1):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * kernel)
    return out


def cross_correlate2d_transposed(x, kernel):
    """The kernel's rows and columns are swapped (kernel.T)."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float).T
    kh, kw = kernel.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw))
    return np.einsum("ijmn,mn->ij", windows, kernel)


def im2col_column_major(x, kernel_size):
    """Patch entries listed column by column: (n, m, c) instead of (m, n, c)."""
    kh, kw = kernel_size
    x = ops.convert_to_tensor(x)
    _, height, width, channels = x.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    shifted = [x[:, m : m + out_h, n : n + out_w, :] for n in range(kw) for m in range(kh)]
    return ops.reshape(ops.stack(shifted, axis=3), (-1, out_h, out_w, kh * kw * channels))


def im2col_channel_first(x, kernel_size):
    """Patch entries with the channel slowest: (c, m, n) instead of (m, n, c)."""
    kh, kw = kernel_size
    x = ops.convert_to_tensor(x)
    _, height, width, channels = x.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    shifted = [x[:, m : m + out_h, n : n + out_w, :] for m in range(kh) for n in range(kw)]
    patches = ops.stack(shifted, axis=4)  # (batch, out_h, out_w, channels, kh * kw)
    return ops.reshape(patches, (-1, out_h, out_w, kh * kw * channels))


def call_flipped_kernel(self, inputs):
    """True convolution: the kernel is flipped in both spatial axes."""
    kernel = ops.flip(ops.flip(self.kernel, axis=0), axis=1)
    outputs = ops.matmul(im2col(inputs, self.kernel_size), ops.reshape(kernel, (-1, self.filters)))
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def call_kernel_axes_swapped(self, inputs):
    """The kernel's spatial axes are swapped before it is flattened."""
    kernel = ops.transpose(self.kernel, (1, 0, 2, 3))
    outputs = ops.matmul(im2col(inputs, self.kernel_size), ops.reshape(kernel, (-1, self.filters)))
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def call_bias_missing(self, inputs):
    """The bias is created but never added."""
    patches = im2col(inputs, self.kernel_size)
    return self.activation(ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters))))


def call_channels_not_summed(self, inputs):
    """One output per (input channel, filter) pair: the sum over channels is missing."""
    kh, kw = self.kernel_size
    channels = inputs.shape[-1]
    patches = im2col(inputs, self.kernel_size)
    patches = ops.reshape(patches, (*ops.shape(patches)[:3], kh * kw, channels))
    kernel = ops.reshape(self.kernel, (kh * kw, channels, self.filters))
    outputs = ops.einsum("bhwpc,pcf->bhwcf", patches, kernel)
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def build_channels_first(self, input_shape):
    """Reads the channels from axis 1, as if the images were (batch, channels, H, W)."""
    channels = input_shape[1]
    self.kernel = self.add_weight(
        name="kernel",
        shape=(*self.kernel_size, channels, self.filters),
        initializer=self.kernel_initializer,
    )
    self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")


def call_channels_first(self, inputs):
    """Cross-correlates over axes 2 and 3 and sums axis 1, as if inputs were channels-first."""
    kh, kw = self.kernel_size
    _, channels, height, width = inputs.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    outputs = 0
    for m in range(kh):
        for n in range(kw):
            window = inputs[:, :, m : m + out_h, n : n + out_w]
            outputs = outputs + ops.einsum("bchw,cf->bfhw", window, self.kernel[m, n])
    outputs = outputs + ops.reshape(self.bias, (1, -1, 1, 1))
    return self.activation(outputs)


M = "solutions.mistakes.convolution"
CC = ("test_hand_example", "test_cross_correlate2d")
CONV_VALUES = ("test_conv2d_matches_keras", "test_conv2d_trains")

WRONG_VERSIONS = (
    WrongVersion("flipped_kernel", {"cross_correlate2d": f"{M}:cross_correlate2d_flipped"}, CC),
    WrongVersion("output_one_short", {"cross_correlate2d": f"{M}:cross_correlate2d_one_short"}, CC),
    WrongVersion("output_one_long", {"cross_correlate2d": f"{M}:cross_correlate2d_one_long"}, CC),
    WrongVersion(
        "kernel_axes_swapped", {"cross_correlate2d": f"{M}:cross_correlate2d_transposed"}, CC
    ),
    WrongVersion(
        "patch_column_major", {"im2col": f"{M}:im2col_column_major"}, ("test_im2col", *CONV_VALUES)
    ),
    WrongVersion(
        "patch_channel_first",
        {"im2col": f"{M}:im2col_channel_first"},
        ("test_im2col", *CONV_VALUES),
    ),
    WrongVersion("flipped_kernel", {"Conv2D.call": f"{M}:call_flipped_kernel"}, CONV_VALUES),
    WrongVersion(
        "kernel_axes_swapped", {"Conv2D.call": f"{M}:call_kernel_axes_swapped"}, CONV_VALUES
    ),
    WrongVersion("bias_missing", {"Conv2D.call": f"{M}:call_bias_missing"}, CONV_VALUES),
    WrongVersion(
        "channels_not_summed",
        {"Conv2D.call": f"{M}:call_channels_not_summed"},
        CONV_VALUES,
    ),
    WrongVersion(
        "channels_first",
        {"Conv2D.build": f"{M}:build_channels_first", "Conv2D.call": f"{M}:call_channels_first"},
        ("test_conv2d_contract", *CONV_VALUES),
    ),
)
