"""Lesson 05, pooling: output sizes, pooling windows with TensorFlow's padding, and the layers
MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
from keras import ops


def pool_output_size(size, pool_size, stride, padding):
    """Number of pooling windows along one axis, as TensorFlow and Keras count them.

    Args:
        size: length n of the axis (height or width), a positive int.
        pool_size: window length k along this axis.
        stride: step s between two windows along this axis.
        padding: `"valid"` (only windows that lie inside the input) or `"same"` (one window
            per stride step along the input, the input padded so that they all fit).

    Returns:
        An int: floor((n - k) / s) + 1 for `"valid"`, ceil(n / s) for `"same"`.
    """
    ### BEGIN SOLUTION
    if padding == "valid":
        return (size - pool_size) // stride + 1
    return -(-size // stride)
    ### END SOLUTION


def pool_windows(x, pool_size, strides, padding="valid", pad_value=0.0):
    """Gather every pooling window of a batch of images, padding them as TensorFlow does.

    With `"same"` padding an axis of length n gets p = max((out - 1) * s + k - n, 0) extra
    cells, p // 2 before the input and the rest (one more when p is odd) after it: the extra
    row goes at the bottom, the extra column at the right. Padded cells hold `pad_value`.

    Args:
        x: tensor of shape (batch, H, W, C), channels last, with H and W known.
        pool_size: pair (kh, kw).
        strides: pair (sh, sw).
        padding: `"valid"` or `"same"`.
        pad_value: the number written in padded cells.

    Returns:
        Tensor of shape (batch, out_h, out_w, kh * kw, C): entry [b, i, j, :, c] lists the
        kh * kw values of channel c under the window whose top-left corner is at row
        i * sh, column j * sw of the padded input. Any order of the kh * kw entries will do
        for pooling; this one lists them row by row.
    """
    ### BEGIN SOLUTION
    (kh, kw), (sh, sw) = pool_size, strides
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    out_h = pool_output_size(height, kh, sh, padding)
    out_w = pool_output_size(width, kw, sw, padding)
    if padding == "same":
        pad_h = max((out_h - 1) * sh + kh - height, 0)
        pad_w = max((out_w - 1) * sw + kw - width, 0)
        top, left = pad_h // 2, pad_w // 2
        widths = [(0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)]
        x = ops.pad(x, widths, constant_values=pad_value)
    last_h, last_w = (out_h - 1) * sh + 1, (out_w - 1) * sw + 1
    windows = [
        x[:, m : m + last_h : sh, n : n + last_w : sw, :] for m in range(kh) for n in range(kw)
    ]
    return ops.stack(windows, axis=3)
    ### END SOLUTION


def as_pair(value, name):
    """Turn a positive int or a pair of them into a tuple of two ints, with Keras's message."""
    message = f"The `{name}` argument must be a tuple of 2 integers. Received {name}={value}"
    try:
        pair = tuple(int(v) for v in ((value, value) if isinstance(value, int) else value))
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if len(pair) != 2:
        raise ValueError(message)
    if min(pair) <= 0:
        wrong = {v for v in pair if v <= 0}
        raise ValueError(f"{message}, including values {wrong} that do not satisfy `value > 0`")
    return pair


def standardize_padding(padding):
    """`"valid"` or `"same"` (any case), else a ValueError naming the argument."""
    value = str(padding).lower()
    if value not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return value


def standardize_data_format(data_format):
    """`"channels_last"`; `None` means Keras's default (`keras.config.image_data_format()`).
    These layers work on channels-last images only."""
    value = keras.config.image_data_format() if data_format is None else str(data_format).lower()
    if value != "channels_last":
        raise ValueError(
            "Only data_format='channels_last' is supported (channels_first is not implemented). "
            f"Received: data_format={value!r}"
        )
    return value


class Pooling2D(keras.layers.Layer):
    """What MaxPooling2D and AveragePooling2D share: arguments, output shape and config.

    A subclass only defines `call`, which reduces each window of `pool_windows`.

    Args:
        pool_size: int or pair (kh, kw), the window size.
        strides: int, pair (sh, sw) or `None`, the step between windows; `None` means
            `pool_size` (windows side by side, no overlap).
        padding: `"valid"` or `"same"` (TensorFlow's placement: the extra row or column of
            padding goes at the bottom or the right).
        data_format: `"channels_last"`, or `None` for Keras's default.
        name: the layer's name.
    """

    def __init__(self, pool_size, strides, padding, data_format, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        ### BEGIN SOLUTION
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides")
        ### END SOLUTION
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = keras.InputSpec(ndim=4)
        self._build_at_init()  # no weights to create: built now, as Keras's pooling layers are

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, out_h, out_w, C); a size that is None stays None."""
        ### BEGIN SOLUTION
        batch, height, width, channels = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        out_h = None if height is None else pool_output_size(height, kh, sh, self.padding)
        out_w = None if width is None else pool_output_size(width, kw, sw, self.padding)
        return (batch, out_h, out_w, channels)
        ### END SOLUTION

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(Pooling2D):
    """Max pooling over 2D windows, a drop-in for `keras.layers.MaxPooling2D`.

    Each output value is the largest input value of its window, channel by channel. With
    `padding="same"` the padded cells never win: they are ignored, as in TensorFlow.

    Args:
        pool_size: int or pair (kh, kw). Default (2, 2).
        strides: int, pair or `None` (default), which means `pool_size`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"`, or `None` for Keras's default.
        name: the layer's name.

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Output: tensor of shape (batch, out_h, out_w, C), with out_h = floor((H - kh) / sh) + 1
    for `"valid"` and ceil(H / sh) for `"same"` (the same for the width).

    Not supported: `data_format="channels_first"` (refused with a `ValueError`).
    """

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def call(self, inputs):
        """The maximum of each window; padded cells hold -inf so that they never win."""
        ### BEGIN SOLUTION
        windows = pool_windows(inputs, self.pool_size, self.strides, self.padding, float("-inf"))
        return ops.max(windows, axis=3)
        ### END SOLUTION


class AveragePooling2D(Pooling2D):
    """Average pooling over 2D windows, a drop-in for `keras.layers.AveragePooling2D`.

    Each output value is the mean of the input values of its window, channel by channel.
    With `padding="same"` only the real cells of a window count: a border window holding
    4 real cells and 2 padded ones is divided by 4, as in TensorFlow.

    Args:
        pool_size: int or pair (kh, kw); no default, as in Keras.
        strides: int, pair or `None` (default), which means `pool_size`.
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"`, or `None` for Keras's default.
        name: the layer's name.

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Output: tensor of shape (batch, out_h, out_w, C), sized as for MaxPooling2D.

    Not supported: `data_format="channels_first"` (refused with a `ValueError`).
    """

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def call(self, inputs):
        """The sum of each window divided by the number of real (not padded) cells in it."""
        ### BEGIN SOLUTION
        args = (self.pool_size, self.strides, self.padding, 0.0)
        totals = ops.sum(pool_windows(inputs, *args), axis=3)
        counts = ops.sum(pool_windows(ops.ones_like(inputs[..., :1]), *args), axis=3)
        return totals / counts
        ### END SOLUTION


class GlobalAveragePooling2D(keras.layers.Layer):
    """Mean of each channel over all positions, a drop-in for `keras.layers.GlobalAveragePooling2D`.

    It turns a stack of feature maps into one number per channel, whatever the image size,
    and is the usual bridge from the last convolutional layer to a classifier.

    Args:
        data_format: `"channels_last"`, or `None` for Keras's default.
        keepdims: if `True` the output keeps the spatial axes with length 1,
            (batch, 1, 1, C); if `False` (default) it is (batch, C).

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Not supported: `data_format="channels_first"` (refused with a `ValueError`).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = keras.InputSpec(ndim=4)
        self._build_at_init()  # no weights to create: built now, as in Keras

    def call(self, inputs):
        """Average over the height and width axes."""
        ### BEGIN SOLUTION
        return ops.mean(inputs, axis=(1, 2), keepdims=self.keepdims)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, C), or (batch, 1, 1, C) when keepdims."""
        ### BEGIN SOLUTION
        batch, _, _, channels = input_shape
        return (batch, 1, 1, channels) if self.keepdims else (batch, channels)
        ### END SOLUTION

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {
    "MaxPooling2D": (MaxPooling2D, "max_pooling_test.py"),
    "AveragePooling2D": (AveragePooling2D, "average_pooling_test.py"),
    "GlobalAveragePooling2D": (GlobalAveragePooling2D, "global_average_pooling_test.py"),
}
