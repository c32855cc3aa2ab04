"""Wrong versions of lesson 10's code, each making one catalogued mistake.

Written the way students write them (loops over channels and taps, a formula borrowed from
another layer), not as edits of the reference. They call the lesson's given helpers
(`padding_amounts`, `im2col`, `spread`) by their global names, as the notebook does.
"""

from keras import ops

from solutions.mistakes import WrongVersion


def depthwise_conv_mixes_channels(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """Each of the C * depth_multiplier kernels slides over every input channel and sums them,
    as a standard convolution would: output channel c * M + j mixes all channels."""
    kh, kw, channels, multiplier = kernel.shape
    geometry = zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    pads = [padding_amounts(n, k, s, padding, d) for n, k, s, d in geometry]  # noqa: F821
    patches = im2col(ops.pad(x, ((0, 0), *pads, (0, 0))), (kh, kw), strides, dilation_rate)  # noqa: F821
    batch, oh, ow = ops.shape(patches)[0], patches.shape[1], patches.shape[2]
    windows = ops.reshape(patches, (batch, oh, ow, kh * kw, channels))
    outputs = []
    for c in range(channels):
        for j in range(multiplier):
            taps = ops.reshape(kernel[:, :, c, j], (1, 1, 1, kh * kw, 1))
            outputs.append(ops.sum(windows * taps, axis=(3, 4)))  # every channel summed
    return ops.stack(outputs, axis=-1)


def depthwise_conv_channel_order(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """Filters right, but stacks the outputs multiplier first: channel j * C + c instead of
    Keras's c * depth_multiplier + j."""
    kh, kw, channels, multiplier = kernel.shape
    geometry = zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    pads = [padding_amounts(n, k, s, padding, d) for n, k, s, d in geometry]  # noqa: F821
    patches = im2col(ops.pad(x, ((0, 0), *pads, (0, 0))), (kh, kw), strides, dilation_rate)  # noqa: F821
    batch, oh, ow = ops.shape(patches)[0], patches.shape[1], patches.shape[2]
    windows = ops.reshape(patches, (batch, oh, ow, kh * kw, channels))
    outputs = []
    for j in range(multiplier):
        for c in range(channels):
            taps = ops.reshape(kernel[:, :, c, j], (1, 1, 1, kh * kw))
            outputs.append(ops.sum(windows[..., c] * taps, axis=3))
    return ops.stack(outputs, axis=-1)


def depthwise_conv_same_padding_before(
    x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)
):
    """Works out 'same' padding itself, centred the other way: the larger half before (top,
    left), where TensorFlow puts it after."""
    kh, kw, channels, multiplier = kernel.shape
    pads = []
    for n, k, s, d in zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0) if padding == "same" else 0
        pads.append((total - total // 2, total // 2))
    patches = im2col(ops.pad(x, ((0, 0), *pads, (0, 0))), (kh, kw), strides, dilation_rate)  # noqa: F821
    batch, oh, ow = ops.shape(patches)[0], patches.shape[1], patches.shape[2]
    windows = ops.reshape(patches, (batch, oh, ow, kh * kw, channels, 1))
    outputs = ops.sum(windows * ops.reshape(kernel, (kh * kw, channels, multiplier)), axis=3)
    return ops.reshape(outputs, (batch, oh, ow, channels * multiplier))


def separable_call_without_pointwise(self, inputs):
    """The depthwise step, then the bias and the activation: DepthwiseConv2D's call, copied."""
    outputs = depthwise_conv(  # noqa: F821
        inputs, self.depthwise_kernel, self.strides, self.padding, self.dilation_rate
    )
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def transpose_output_size_same_as_padded(
    n, kernel_size, strides=1, padding="valid", output_padding=None
):
    """'same' taken as k // 2 zeros cropped on each side, with no output_padding meaning 0:
    (n - 1) s + k - 2 (k // 2), one stride short of Keras's n * s for odd kernels."""
    if n is None:
        return None
    extra = output_padding or 0
    if padding == "same":
        return (n - 1) * strides + kernel_size - 2 * (kernel_size // 2) + extra
    if output_padding is None:
        return n * strides + max(kernel_size - strides, 0)
    return (n - 1) * strides + kernel_size + extra


def transpose_output_size_no_output_padding(
    n, kernel_size, strides=1, padding="valid", output_padding=None
):
    """Keras's sizes without output_padding, whatever output_padding is."""
    if n is None:
        return None
    if padding == "same":
        return n * strides
    return n * strides + max(kernel_size - strides, 0)


def conv_transpose_unflipped(x, kernel, output_size, strides=(1, 1), padding="valid"):
    """Spreads and pads the input as the reference does, then correlates it with the kernel as
    it is: a convolution, not the transpose of one (the kernel is not turned around)."""
    kh, kw, filters, channels = kernel.shape
    widths, starts = [], []
    for n_in, n_out, k, s in zip(x.shape[1:3], output_size, (kh, kw), strides, strict=True):
        total = max((n_in - 1) * s + k - n_out, 0) if padding == "same" else 0
        widths.append((k - 1, max(total // 2 + n_out - (n_in - 1) * s - 1, 0)))
        starts.append(total // 2)
    padded = ops.pad(spread(x, strides), ((0, 0), *widths, (0, 0)))  # noqa: F821
    rows, cols = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1
    out = 0
    for m in range(kh):
        for n in range(kw):
            window = padded[:, m : m + rows, n : n + cols, :]
            out = out + ops.einsum("bhwc,fc->bhwf", window, kernel[m, n])
    (top, left), (out_h, out_w) = starts, output_size
    return out[:, top : top + out_h, left : left + out_w, :]


M = "solutions.mistakes.conv_variants"
SIZE_CELLS = ("test_transpose_output_size", "test_conv_transpose_contract")

WRONG_VERSIONS = (
    WrongVersion(
        "depthwise_mixes_channels",
        {"depthwise_conv": f"{M}:depthwise_conv_mixes_channels"},
        (
            "test_depthwise_conv",
            "test_depthwise_matches_keras",
            "test_separable_matches_keras",
            "test_pointwise_is_dense",
        ),
    ),
    WrongVersion(
        "channel_order",
        {"depthwise_conv": f"{M}:depthwise_conv_channel_order"},
        ("test_depthwise_conv", "test_depthwise_matches_keras", "test_separable_matches_keras"),
    ),
    WrongVersion(
        "same_padding_before",
        {"depthwise_conv": f"{M}:depthwise_conv_same_padding_before"},
        ("test_depthwise_conv", "test_depthwise_matches_keras", "test_separable_matches_keras"),
    ),
    WrongVersion(
        "pointwise_missing",
        {"SeparableConv2D.call": f"{M}:separable_call_without_pointwise"},
        ("test_separable_matches_keras", "test_pointwise_is_dense"),
    ),
    WrongVersion(
        "wrong_same_size",
        {"transpose_output_size": f"{M}:transpose_output_size_same_as_padded"},
        (*SIZE_CELLS, "test_conv_transpose_matches_keras"),
    ),
    WrongVersion(
        "output_padding_ignored",
        {"transpose_output_size": f"{M}:transpose_output_size_no_output_padding"},
        (*SIZE_CELLS, "test_conv_transpose_matches_keras"),
    ),
    WrongVersion(
        "unflipped_kernel",
        {"conv_transpose": f"{M}:conv_transpose_unflipped"},
        (
            "test_conv_transpose",
            "test_conv_transpose_adjoint",
            "test_conv_transpose_matches_keras",
        ),
    ),
)
