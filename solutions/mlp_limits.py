"""Lesson 01, the limits of fully connected layers: Dense from scratch, parameter counts, and a
1-D convolution written as a banded matrix.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import math

import keras
import numpy as np
from keras import ops

from course import data


class Dense(keras.layers.Layer):
    """Fully connected layer, a drop-in for `keras.layers.Dense`.

    Computes `activation(inputs @ kernel + bias)` on the last axis of `inputs`, so a rank-3
    input `(batch, steps, features)` gives `(batch, steps, units)`; a mask passes through.
    Not supported: LoRA (`lora_rank`, `enable_lora`) and quantization (`quantize`), which
    Keras's Dense also offers.

    Args:
        units: positive int, the size of the output's last axis.
        activation: activation applied after the bias (name or callable), default none.
        use_bias: whether to add a learned bias per unit. Default `True`.
        kernel_initializer, bias_initializer: initializers of the two weights.
        kernel_regularizer, bias_regularizer: optional regularizers of the two weights.
        activity_regularizer: optional regularizer of the layer's output.
        kernel_constraint, bias_constraint: optional constraints of the two weights.

    Call arguments:
        inputs: tensor of shape `(batch, ..., input_dim)`, rank 2 or more.

    Output: tensor of shape `(batch, ..., units)`.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        """Create `kernel` (input_dim, units) and, if `use_bias`, `bias` (units,)."""
        ### BEGIN SOLUTION
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        ### END SOLUTION
        # From now on, inputs must have input_dim features (as in Keras).
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs):
        """Multiply the last axis of `inputs` by the kernel, add the bias, apply the activation."""
        ### BEGIN SOLUTION
        outputs = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is None:  # Keras allows `layer.activation = None`
            return outputs
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, ..., input_dim) -> (batch, ..., units); None stays None."""
        ### BEGIN SOLUTION
        return (*input_shape[:-1], self.units)
        ### END SOLUTION

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


def dense_params(n_in, units, use_bias=True):
    """Number of parameters of a Dense layer with `n_in` inputs and `units` outputs.

    Args:
        n_in: size of the input's last axis.
        units: number of units (outputs).
        use_bias: whether the layer has a bias per unit.

    Returns:
        int: n_in * units weights, plus units biases when `use_bias`.
    """
    ### BEGIN SOLUTION
    return n_in * units + (units if use_bias else 0)
    ### END SOLUTION


def mlp_params(input_shape, units, use_bias=True):
    """Number of parameters of an MLP on images: Flatten, then one Dense layer per entry of `units`.

    Args:
        input_shape: shape of one image, `(H, W)` or `(H, W, C)` (no batch axis).
        units: list or tuple with the number of units of each Dense layer, in order.
        use_bias: whether every Dense layer has biases.

    Returns:
        int: the total, equal to `model.count_params()` of
        `keras.Sequential([keras.Input(input_shape), Flatten(), Dense(u) for u in units])`.
    """
    ### BEGIN SOLUTION
    sizes = [math.prod(input_shape), *units]
    return sum(dense_params(a, b, use_bias) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    ### END SOLUTION


def conv2d_params(kernel_size, channels, filters, use_bias=True):
    """Number of parameters of a Conv2D layer: (kh * kw * channels + 1) * filters with biases.

    Args:
        kernel_size: int or pair `(kh, kw)`.
        channels: number of input channels.
        filters: number of filters (output channels).
        use_bias: whether the layer has a bias per filter.

    Returns:
        int: kh * kw * channels * filters weights, plus `filters` biases when `use_bias`.
        The size of the image does not appear: every position shares the same kernel.
    """
    ### BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return dense_params(kh * kw * channels, filters, use_bias)
    ### END SOLUTION


def conv1d_matrix(kernel, n, padding="valid"):
    """The matrix T such that `T @ x` is the 1-D cross-correlation of `x` (length n) with `kernel`.

    Row i of T holds the kernel at the positions of the inputs that output i sees, and zeros
    elsewhere: a band along the diagonal.

    Args:
        kernel: 1-D array `(k,)`, or a list of its k taps.
        n: length of the input signal.
        padding: `"valid"` (output length n - k + 1, no padding) or `"same"` (output length n,
            zeros padded as Keras does: (k - 1) // 2 on the left, the rest on the right).

    Returns:
        NumPy array of shape `(n_out, n)` with T[i, j] = kernel[j - i + left] where that index
        lies in [0, k), and 0 elsewhere; `left` is 0 for "valid" and (k - 1) // 2 for "same".
    """
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    ### BEGIN SOLUTION
    kernel = np.asarray(kernel, dtype=float)
    k = len(kernel)
    left = 0 if padding == "valid" else (k - 1) // 2
    n_out = n - k + 1 if padding == "valid" else n
    index = np.arange(n)[None, :] - np.arange(n_out)[:, None] + left
    inside = (index >= 0) & (index < k)
    return np.where(inside, kernel[np.clip(index, 0, k - 1)], 0.0)
    ### END SOLUTION


def make_mlp(size=28, hidden=64, classes=4):
    """An MLP for grey size x size images: Flatten, Dense(hidden, relu), Dense(classes, softmax)."""
    return keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Flatten(),
            Dense(hidden, activation="relu"),
            Dense(classes, activation="softmax"),
        ],
        name="mlp",
    )


def make_cnn(size=28, classes=4):
    """A small CNN: two 3x3 Conv2D layers, each filter's largest response anywhere, then Dense."""
    return keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            Dense(classes, activation="softmax"),
        ],
        name="cnn",
    )


def accuracy_by_shift(model, shifts, n=400, noise=0.0, seed=100):
    """Accuracy of `model` on `n` new shapes images per horizontal shift dx (offset (0, dx))."""
    accuracies = []
    for dx in shifts:
        x, y = data.shapes(n, offset=(0, dx), noise=noise, seed=seed + dx)
        predicted = np.argmax(model.predict(x, batch_size=n, verbose=0), axis=-1)
        accuracies.append(float(np.mean(predicted == y)))
    return accuracies


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"Dense": (Dense, "dense_test.py")}
