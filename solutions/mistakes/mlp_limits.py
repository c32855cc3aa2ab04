"""Wrong versions of lesson 01's code, each making one catalogued mistake.

Written the way students write them (loops, einsum, transposes), not as edits of the reference.
"""

import numpy as np
from keras import ops

from solutions.mistakes import WrongVersion
from solutions.mlp_limits import dense_params

# --- parameter counts --------------------------------------------------------------------------


def dense_params_no_bias(n_in, units, use_bias=True):
    """Counts the weights only, whatever use_bias says."""
    return n_in * units


def dense_params_always_bias(n_in, units, use_bias=True):
    """Adds the biases even when use_bias is False."""
    return n_in * units + units


def mlp_params_height_only(input_shape, units, use_bias=True):
    """Takes the first entry of input_shape (the height) as the number of inputs."""
    total, n_in = 0, input_shape[0]
    for n_out in units:
        total += dense_params(n_in, n_out, use_bias)
        n_in = n_out
    return total


def mlp_params_no_channels(input_shape, units, use_bias=True):
    """Counts height * width inputs, leaving out the colour channels."""
    sizes = [input_shape[0] * input_shape[1], *units]
    total = 0
    for i in range(len(units)):
        total += sizes[i] * sizes[i + 1] + (sizes[i + 1] if use_bias else 0)
    return total


def conv2d_params_no_bias(kernel_size, channels, filters, use_bias=True):
    """Counts the kernel weights only."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * channels * filters


def conv2d_params_no_channels(kernel_size, channels, filters, use_bias=True):
    """Gives each filter kh * kw weights, as if it saw one channel."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return (kh * kw + (1 if use_bias else 0)) * filters


# --- Dense -------------------------------------------------------------------------------------


def build_transposed(self, input_shape):
    """Creates the kernel as (units, input_dim), the way the maths is often written (W x)."""
    self.kernel = self.add_weight(
        name="kernel",
        shape=(self.units, input_shape[-1]),
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


def call_transposed(self, inputs):
    """x @ W.T with a (units, input_dim) kernel."""
    outputs = ops.matmul(inputs, ops.transpose(self.kernel))
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def call_activation_before_bias(self, inputs):
    """The activation is applied to inputs @ kernel, then the bias is added."""
    outputs = self.activation(ops.einsum("...i,ij->...j", inputs, self.kernel))
    if self.use_bias:
        outputs = outputs + self.bias
    return outputs


def call_bias_missing(self, inputs):
    """The bias is created but never added."""
    return self.activation(ops.matmul(inputs, self.kernel))


def build_fixed_initializers(self, input_shape):
    """Hard-codes Keras's default initializers and drops regularizers and constraints."""
    self.kernel = self.add_weight(
        name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform"
    )
    if self.use_bias:
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
    else:
        self.bias = None


# --- conv1d_matrix -----------------------------------------------------------------------------


def conv1d_matrix_flipped(kernel, n, padding="valid"):
    """Reads the taps from right to left along each row: the matrix of a true convolution."""
    kernel = np.asarray(kernel, dtype=float)
    k = len(kernel)
    left = 0 if padding == "valid" else (k - 1) // 2
    n_out = n - k + 1 if padding == "valid" else n
    matrix = np.zeros((n_out, n))
    for i in range(n_out):
        for m in range(k):
            j = i + m - left
            if 0 <= j < n:
                matrix[i, j] = kernel[k - 1 - m]
    return matrix


def conv1d_matrix_shifted(kernel, n, padding="valid"):
    """Starts row i at column i for both paddings, forgetting the left padding of 'same'."""
    kernel = np.asarray(kernel, dtype=float)
    k = len(kernel)
    n_out = n - k + 1 if padding == "valid" else n
    matrix = np.zeros((n_out, n))
    for m in range(k):
        matrix += kernel[m] * np.eye(n_out, n, k=m)
    return matrix


def conv1d_matrix_transposed(kernel, n, padding="valid"):
    """Puts the outputs on the columns: shape (n, n_out)."""
    kernel = np.asarray(kernel, dtype=float)
    k = len(kernel)
    left = 0 if padding == "valid" else (k - 1) // 2
    n_out = n - k + 1 if padding == "valid" else n
    matrix = np.zeros((n, n_out))
    for i in range(n_out):
        for m in range(k):
            if 0 <= i + m - left < n:
                matrix[i + m - left, i] = kernel[m]
    return matrix


M = "solutions.mistakes.mlp_limits"
DENSE_VALUES = ("test_dense_matches_keras", "test_dense_trains")
COUNTS = ("test_dense_params", "test_mlp_params", "test_conv2d_params")
MATRIX_VALUES = ("test_conv1d_matrix_example", "test_conv1d_matrix")
MATRIX_ALL = (*MATRIX_VALUES, "test_conv1d_matrix_sparsity")

WRONG_VERSIONS = (
    WrongVersion(
        "kernel_transposed",
        {"Dense.build": f"{M}:build_transposed", "Dense.call": f"{M}:call_transposed"},
        ("test_dense_contract", *DENSE_VALUES),
    ),
    WrongVersion(
        "activation_before_bias", {"Dense.call": f"{M}:call_activation_before_bias"}, DENSE_VALUES
    ),
    WrongVersion("bias_missing", {"Dense.call": f"{M}:call_bias_missing"}, DENSE_VALUES),
    WrongVersion(
        "initializers_ignored",
        {"Dense.build": f"{M}:build_fixed_initializers"},
        ("test_dense_contract",),
    ),
    # The reference mlp_params and conv2d_params call dense_params, so its mistakes spread.
    WrongVersion("bias_not_counted", {"dense_params": f"{M}:dense_params_no_bias"}, COUNTS),
    WrongVersion("bias_always_counted", {"dense_params": f"{M}:dense_params_always_bias"}, COUNTS),
    WrongVersion(
        "height_only", {"mlp_params": f"{M}:mlp_params_height_only"}, ("test_mlp_params",)
    ),
    WrongVersion(
        "channels_forgotten", {"mlp_params": f"{M}:mlp_params_no_channels"}, ("test_mlp_params",)
    ),
    WrongVersion(
        "bias_not_counted", {"conv2d_params": f"{M}:conv2d_params_no_bias"}, ("test_conv2d_params",)
    ),
    WrongVersion(
        "input_channels_forgotten",
        {"conv2d_params": f"{M}:conv2d_params_no_channels"},
        ("test_conv2d_params",),
    ),
    WrongVersion("matrix_flipped", {"conv1d_matrix": f"{M}:conv1d_matrix_flipped"}, MATRIX_VALUES),
    WrongVersion("matrix_shifted", {"conv1d_matrix": f"{M}:conv1d_matrix_shifted"}, MATRIX_ALL),
    WrongVersion(
        "matrix_transposed", {"conv1d_matrix": f"{M}:conv1d_matrix_transposed"}, MATRIX_ALL
    ),
)
