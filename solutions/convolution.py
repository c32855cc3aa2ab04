"""Lesson 02, convolution: one-channel cross-correlation, im2col and a valid, stride-1 Conv2D.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
import numpy as np
from keras import ops


def cross_correlate2d(x, kernel):
    """Slide `kernel` over the one-channel image `x` without padding (what CNNs call convolution).

    Args:
        x: array of shape (H, W).
        kernel: array of shape (kh, kw).

    Returns:
        NumPy array of shape (H - kh + 1, W - kw + 1) with
        out[i, j] = sum over (m, n) of x[i + m, j + n] * kernel[m, n].
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape)
    return np.einsum("ijmn,mn->ij", windows, kernel)
    ### END SOLUTION


def im2col(x, kernel_size):
    """Gather every kh x kw patch of a batch of images into one row of a matrix.

    Args:
        x: tensor of shape (batch, H, W, C), channels last.
        kernel_size: pair (kh, kw).

    Returns:
        Tensor of shape (batch, H - kh + 1, W - kw + 1, kh * kw * C). The last axis lists a
        patch in the order of `kernel.reshape(kh * kw * C, filters)`: row m, then column n,
        then channel c, so that `im2col(x, (kh, kw)) @ kernel.reshape(-1, filters)` is the
        valid cross-correlation of `x` with a Keras kernel of shape (kh, kw, C, filters).
    """
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    x = ops.convert_to_tensor(x)
    _, height, width, channels = x.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    # One slice per kernel offset (m, n): the input values that meet kernel entry (m, n).
    # ops.slice rather than x[...] indexing: its gradient is a cheap pad in TensorFlow.
    shifted = [
        ops.slice(x, (0, m, n, 0), (-1, out_h, out_w, channels))
        for m in range(kh)
        for n in range(kw)
    ]
    return ops.concatenate(shifted, axis=-1)
    ### END SOLUTION


class Conv2D(keras.layers.Layer):
    """2D convolution (cross-correlation) layer, a drop-in for `keras.layers.Conv2D`.

    This lesson's version supports `padding="valid"`, `strides=1`, `dilation_rate=1`,
    `groups=1` and `data_format="channels_last"`; anything else raises a `ValueError`.

    Args:
        filters: number of output channels.
        kernel_size: int or pair (kh, kw).
        strides: must be 1 (or (1, 1)) in this lesson.
        padding: must be `"valid"` in this lesson.
        data_format: `None` or `"channels_last"`.
        dilation_rate: must be 1 (or (1, 1)) in this lesson.
        groups: must be 1.
        activation: activation applied after the bias (name or callable), default none.
        use_bias: whether to add a learned bias per filter. Default `True`.
        kernel_initializer, bias_initializer: initializers of the two weights.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Output: tensor of shape (batch, H - kh + 1, W - kw + 1, filters).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"`filters` must be a positive integer. Received: filters={filters}")
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = require("strides", as_pair(strides, "strides"), (1, 1))
        self.padding = require("padding", str(padding).lower(), "valid")
        self.data_format = require("data_format", data_format or "channels_last", "channels_last")
        self.dilation_rate = require(
            "dilation_rate", as_pair(dilation_rate, "dilation_rate"), (1, 1)
        )
        self.groups = require("groups", groups, 1)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        """Create `kernel` (kh, kw, C, filters) and, if `use_bias`, `bias` (filters,)."""
        ### BEGIN SOLUTION
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        ### END SOLUTION

    def call(self, inputs):
        """Cross-correlate `inputs` with every filter, add the bias, apply the activation."""
        ### BEGIN SOLUTION
        patches = im2col(inputs, self.kernel_size)
        outputs = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, H - kh + 1, W - kw + 1, filters); None stays None."""
        ### BEGIN SOLUTION
        batch, height, width, _ = input_shape
        kh, kw = self.kernel_size
        out_h = None if height is None else height - kh + 1
        out_w = None if width is None else width - kw + 1
        return (batch, out_h, out_w, self.filters)
        ### END SOLUTION

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


def require(name, value, supported, layer="This lesson's Conv2D"):
    """Return `value` if `layer` supports it, else raise a ValueError saying so."""
    if value != supported:
        raise ValueError(f"{layer} supports {name}={supported!r} only. Received: {name}={value!r}")
    return value


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
