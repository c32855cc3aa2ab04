"""Lesson 06, backpropagation: gradient checking, the backward passes of a convolution and of
max pooling, and a Conv2D whose gradient is computed by its own backward pass.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
import numpy as np
from keras import ops

from solutions.convolution import as_pair, require


def numerical_gradient(f, x, eps=1e-5):
    """The gradient of the scalar function `f` at `x`, by central differences.

    Each entry x[i] is moved by +eps and by -eps in turn, everything else held fixed:

        gradient[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

    Args:
        f: a function of one array (of x's shape) that returns a number.
        x: NumPy array of float64, of any shape. It may be changed while the function runs,
            but holds its original values again when the function returns.
        eps: the step.

    Returns:
        A float64 NumPy array of the shape of `x`.
    """
    ### BEGIN SOLUTION
    gradient = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = float(f(x))
        x[index] = saved - eps
        minus = float(f(x))
        x[index] = saved
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient
    ### END SOLUTION


def conv2d_forward(x, kernel):
    """The valid, stride-1 cross-correlation of a batch of images with a Keras kernel.

    One matrix product per kernel offset (m, n): the slice of the input that meets kernel
    entry (m, n) at every output position, times kernel[m, n] of shape (C, F).

    Args:
        x: tensor of shape (B, H, W, C), channels last.
        kernel: tensor of shape (kh, kw, C, F).

    Returns:
        Tensor of shape (B, H - kh + 1, W - kw + 1, F) with
        out[b, i, j, f] = sum over (m, n, c) of x[b, i + m, j + n, c] * kernel[m, n, c, f].
    """
    x = ops.convert_to_tensor(x)
    kernel = ops.convert_to_tensor(kernel)
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = 0
    for m in range(kh):
        for n in range(kw):
            out = out + ops.matmul(x[:, m : m + out_h, n : n + out_w, :], kernel[m, n])
    return out


def conv2d_backward(x, kernel, grad_output):
    """The backward pass of a valid, stride-1 Conv2D (cross-correlation), channels last.

    For the loss L with upstream gradient G = dL/dout of the layer's output
    out = conv2d_forward(x, kernel) + bias:

    - grad_kernel[m, n, c, f] = sum over (b, i, j) of x[b, i + m, j + n, c] * G[b, i, j, f]:
      the cross-correlation of the input with the upstream gradient, summed over the batch;
    - grad_x: the *full* convolution of G with the kernel, that is G padded with kh - 1 rows
      and kw - 1 columns of zeros on each side, cross-correlated with the kernel flipped in
      both spatial axes (its channel axes swapped, so that it maps F channels to C);
    - grad_bias[f] = sum over (b, i, j) of G[b, i, j, f].

    Args:
        x: tensor of shape (B, H, W, C), the layer's input.
        kernel: tensor of shape (kh, kw, C, F).
        grad_output: tensor of shape (B, H - kh + 1, W - kw + 1, F), the upstream gradient.

    Returns:
        (grad_x, grad_kernel, grad_bias) of shapes (B, H, W, C), (kh, kw, C, F) and (F,).
    """
    ### BEGIN SOLUTION
    x = ops.convert_to_tensor(x)
    kernel = ops.convert_to_tensor(kernel)
    grad_output = ops.convert_to_tensor(grad_output)
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = grad_output.shape[1], grad_output.shape[2]
    rows = []
    for m in range(kh):
        row = [
            ops.einsum("bijc,bijf->cf", x[:, m : m + out_h, n : n + out_w, :], grad_output)
            for n in range(kw)
        ]
        rows.append(ops.stack(row))
    grad_kernel = ops.stack(rows)
    padded = ops.pad(grad_output, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    flipped = ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2))
    grad_x = conv2d_forward(padded, flipped)
    grad_bias = ops.sum(grad_output, axis=(0, 1, 2))
    return grad_x, grad_kernel, grad_bias
    ### END SOLUTION


def max_pool_backward(x, grad_output, pool_size):
    """The backward pass of `keras.layers.MaxPooling2D(pool_size)` (strides = pool_size,
    padding "valid"), as TensorFlow computes it.

    Each window's upstream gradient goes entirely to the cell that holds the window's
    maximum; every other cell gets 0. When several cells tie for the maximum, TensorFlow
    gives it to the first of them, reading the window row by row. Rows and columns that no
    window covers (when H or W is not a multiple of the pool size) get 0.

    Args:
        x: array of shape (B, H, W, C), the input of the pooling layer.
        grad_output: array of shape (B, H // kh, W // kw, C), the upstream gradient.
        pool_size: int or pair (kh, kw).

    Returns:
        NumPy array of shape (B, H, W, C), the gradient with respect to x.
    """
    ### BEGIN SOLUTION
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
    x = np.asarray(x)
    grad_output = np.asarray(grad_output)
    batch, height, width, channels = x.shape
    out_h, out_w = height // kh, width // kw
    # (b, window row, row in window, window column, column in window, c) -> cells in a row
    windows = x[:, : out_h * kh, : out_w * kw].reshape(batch, out_h, kh, out_w, kw, channels)
    windows = windows.transpose(0, 1, 3, 2, 4, 5).reshape(batch, out_h, out_w, kh * kw, channels)
    first = windows.argmax(axis=3)  # the first maximum, row by row
    winner = np.arange(kh * kw)[:, None] == first[:, :, :, None, :]
    routed = np.where(winner, grad_output[:, :, :, None, :], 0.0)
    routed = routed.reshape(batch, out_h, out_w, kh, kw, channels).transpose(0, 1, 3, 2, 4, 5)
    grad_x = np.zeros(x.shape, dtype=grad_output.dtype)
    grad_x[:, : out_h * kh, : out_w * kw] = routed.reshape(batch, out_h * kh, out_w * kw, channels)
    return grad_x
    ### END SOLUTION


class Conv2D(keras.layers.Layer):
    """2D convolution layer whose gradient is computed by `conv2d_backward`, not by autodiff.

    A drop-in for `keras.layers.Conv2D` with `padding="valid"` and stride 1 (as in lesson 02):
    `call` computes the output with `conv2d_forward` inside a function decorated with
    `keras.ops.custom_gradient`, whose backward pass is `conv2d_backward`.

    Not supported (refused with a `ValueError`): strides or dilation other than 1, padding
    other than `"valid"`, `groups` > 1, channels-first data. The course's full `Conv2D`
    (lessons 03 and 04) has them.

    Args:
        filters: number of output channels.
        kernel_size: int or pair (kh, kw).
        strides: must be 1 (or (1, 1)).
        padding: must be `"valid"`.
        data_format: `None` or `"channels_last"`.
        dilation_rate: must be 1 (or (1, 1)).
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
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def call(self, inputs):
        """conv2d_forward plus the bias, differentiated by conv2d_backward; then the activation."""
        ### BEGIN SOLUTION

        @ops.custom_gradient
        def convolve(x, kernel, bias):
            def backward(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return conv2d_backward(x, kernel, upstream)

            return conv2d_forward(x, kernel) + bias, backward

        # Tensors, not variables: TensorFlow's custom_gradient refuses variables read inside.
        kernel = ops.copy(self.kernel)
        bias = ops.copy(self.bias) if self.use_bias else ops.zeros((self.filters,), kernel.dtype)
        return self.activation(convolve(inputs, kernel, bias))
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, H - kh + 1, W - kw + 1, filters); None stays None."""
        batch, height, width, _ = input_shape
        kh, kw = self.kernel_size
        out_h = None if height is None else height - kh + 1
        out_w = None if width is None else width - kw + 1
        return (batch, out_h, out_w, self.filters)

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


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"BackpropConv2D": (Conv2D, None)}  # no namesake: Conv2D with our own gradient
