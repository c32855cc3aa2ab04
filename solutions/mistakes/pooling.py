"""Wrong versions of lesson 05's code, each making one catalogued mistake.

Written the way students write them (loops, slices, reshapes), not as edits of the reference.
"""

import keras
from keras import ops

from solutions.mistakes import WrongVersion
from solutions.pooling import (
    as_pair,
    pool_output_size,
    pool_windows,
    standardize_data_format,
    standardize_padding,
)


def pool_output_size_ceil(size, pool_size, stride, padding):
    """Rounds up in 'valid' mode too, counting a last window that sticks out of the input."""
    import math

    if padding == "valid":
        return math.ceil((size - pool_size) / stride) + 1
    return math.ceil(size / stride)


def pool_output_size_same_keeps_size(size, pool_size, stride, padding):
    """Believes that 'same' always keeps the input size, whatever the stride."""
    if padding == "same":
        return size
    return (size - pool_size) // stride + 1


def pool_windows_extra_top_left(x, pool_size, strides, padding="valid", pad_value=0.0):
    """Puts the odd padding row at the top and the odd column at the left."""
    x = ops.convert_to_tensor(x)
    out_h = pool_output_size(x.shape[1], pool_size[0], strides[0], padding)
    out_w = pool_output_size(x.shape[2], pool_size[1], strides[1], padding)
    if padding == "same":
        pad_h = max((out_h - 1) * strides[0] + pool_size[0] - x.shape[1], 0)
        pad_w = max((out_w - 1) * strides[1] + pool_size[1] - x.shape[2], 0)
        top, left = pad_h - pad_h // 2, pad_w - pad_w // 2
        widths = [(0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)]
        x = ops.pad(x, widths, constant_values=pad_value)
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            top, left = i * strides[0], j * strides[1]
            window = x[:, top : top + pool_size[0], left : left + pool_size[1], :]
            row.append(ops.reshape(window, (-1, pool_size[0] * pool_size[1], x.shape[3])))
        rows.append(ops.stack(row, axis=1))
    return ops.stack(rows, axis=1)


def pool_windows_zero_pad(x, pool_size, strides, padding="valid", pad_value=0.0):
    """Pads with ops.pad's default (zeros) and never uses pad_value."""
    x = ops.convert_to_tensor(x)
    (kh, kw), (sh, sw) = pool_size, strides
    out_h = pool_output_size(x.shape[1], kh, sh, padding)
    out_w = pool_output_size(x.shape[2], kw, sw, padding)
    if padding == "same":
        pad_h = max((out_h - 1) * sh + kh - x.shape[1], 0)
        pad_w = max((out_w - 1) * sw + kw - x.shape[2], 0)
        top, left = pad_h // 2, pad_w // 2
        x = ops.pad(x, [(0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)])
    slices = []
    for m in range(kh):
        for n in range(kw):
            slices.append(
                x[:, m : m + (out_h - 1) * sh + 1 : sh, n : n + (out_w - 1) * sw + 1 : sw]
            )
    return ops.stack(slices, axis=3)


def init_strides_default_one(self, pool_size, strides, padding, data_format, name=None, **kwargs):
    """strides=None becomes 1, so the windows overlap instead of sitting side by side."""
    super().__init__(name=name, **kwargs)
    self.pool_size = as_pair(pool_size, "pool_size")
    self.strides = as_pair(1 if strides is None else strides, "strides")
    self.padding = standardize_padding(padding)
    self.data_format = standardize_data_format(data_format)
    self.input_spec = keras.InputSpec(ndim=4)


def max_call_zero_padded(self, inputs):
    """Lets pool_windows pad with zeros, which win over negative inputs."""
    windows = pool_windows(inputs, self.pool_size, self.strides, self.padding)
    return ops.max(windows, axis=3)


def max_call_across_channels(self, inputs):
    """Flattens each window with its channels (im2col style) and takes one max for all."""
    windows = pool_windows(inputs, self.pool_size, self.strides, self.padding, float("-inf"))
    _, out_h, out_w, cells, channels = windows.shape
    flat = ops.reshape(windows, (-1, out_h, out_w, cells * channels))
    return ops.max(flat, axis=-1, keepdims=True)


def average_call_pad_counted(self, inputs):
    """Divides every window by kh * kw, padded cells included."""
    return ops.mean(pool_windows(inputs, self.pool_size, self.strides, self.padding), axis=3)


def average_call_across_channels(self, inputs):
    """Averages each window over its cells and the channels together."""
    args = (self.pool_size, self.strides, self.padding, 0.0)
    totals = ops.sum(pool_windows(inputs, *args), axis=(3, 4))
    counts = ops.sum(pool_windows(ops.ones_like(inputs), *args), axis=(3, 4))
    return ops.expand_dims(totals / counts, -1)


def global_call_keepdims_ignored(self, inputs):
    """Always drops the spatial axes."""
    return ops.mean(inputs, axis=[1, 2])


def global_output_shape_keepdims_ignored(self, input_shape):
    """Reports (batch, C) even when keepdims is True."""
    return (input_shape[0], input_shape[-1])


def global_call_batch_averaged(self, inputs):
    """Averages over the batch as well as the positions."""
    return ops.mean(inputs, axis=(0, 1, 2), keepdims=self.keepdims)


def global_call_across_channels(self, inputs):
    """Sums rows, then columns, then channels: one number per image."""
    total = ops.sum(ops.sum(ops.sum(inputs, axis=1), axis=1), axis=-1)
    mean = total / (inputs.shape[1] * inputs.shape[2] * inputs.shape[3])
    return ops.reshape(mean, (-1, 1, 1, 1)) if self.keepdims else ops.reshape(mean, (-1, 1))


M = "solutions.mistakes.pooling"
MAX_VALUES = ("test_hand_example", "test_max_pooling_matches_keras", "test_pooling_trains")
LAYERS = (
    "test_pooling_contract",
    "test_hand_example",
    "test_max_pooling_matches_keras",
    "test_average_pooling_matches_keras",
    "test_pooling_trains",
)

WRONG_VERSIONS = (
    WrongVersion(
        "valid_ceil",
        {"pool_output_size": f"{M}:pool_output_size_ceil"},
        (
            "test_pool_output_size",
            "test_pool_windows",
            "test_pooling_contract",
            "test_max_pooling_matches_keras",
            "test_average_pooling_matches_keras",
        ),
    ),
    WrongVersion(
        "same_keeps_size",
        {"pool_output_size": f"{M}:pool_output_size_same_keeps_size"},
        ("test_pool_output_size", "test_pool_windows", *LAYERS),
    ),
    WrongVersion(
        "extra_pad_top_left",
        {"pool_windows": f"{M}:pool_windows_extra_top_left"},
        ("test_pool_windows", *LAYERS[1:]),
    ),
    WrongVersion(
        "max_zero_padded",
        {"pool_windows": f"{M}:pool_windows_zero_pad"},
        ("test_pool_windows", *MAX_VALUES),
    ),
    WrongVersion(
        "strides_default_one", {"Pooling2D.__init__": f"{M}:init_strides_default_one"}, LAYERS
    ),
    WrongVersion(
        "max_zero_padded",
        {"MaxPooling2D.call": f"{M}:max_call_zero_padded"},
        MAX_VALUES,
    ),
    WrongVersion(
        "across_channels",
        {"MaxPooling2D.call": f"{M}:max_call_across_channels"},
        ("test_max_pooling_matches_keras", "test_pooling_trains"),
    ),
    WrongVersion(
        "pad_counted",
        {"AveragePooling2D.call": f"{M}:average_call_pad_counted"},
        ("test_hand_example", "test_average_pooling_matches_keras", "test_pooling_trains"),
    ),
    WrongVersion(
        "across_channels",
        {"AveragePooling2D.call": f"{M}:average_call_across_channels"},
        ("test_average_pooling_matches_keras", "test_pooling_trains"),
    ),
    WrongVersion(
        "keepdims_ignored",
        {"GlobalAveragePooling2D.call": f"{M}:global_call_keepdims_ignored"},
        ("test_global_average_pooling_matches_keras",),
    ),
    WrongVersion(
        "keepdims_ignored",
        {
            "GlobalAveragePooling2D.compute_output_shape": (
                f"{M}:global_output_shape_keepdims_ignored"
            )
        },
        ("test_global_average_pooling_contract",),
    ),
    WrongVersion(
        "batch_averaged",
        {"GlobalAveragePooling2D.call": f"{M}:global_call_batch_averaged"},
        ("test_global_average_pooling_matches_keras",),
    ),
    WrongVersion(
        "across_channels",
        {"GlobalAveragePooling2D.call": f"{M}:global_call_across_channels"},
        ("test_global_average_pooling_matches_keras",),
    ),
)
