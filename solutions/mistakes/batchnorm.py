"""Wrong versions of lesson 07's code, each making one catalogued mistake.

Written the way students write them (NumPy habits, PyTorch habits, loops over axes), not as
edits of the reference. Each wrong `call` keeps the given code around the exercise (inputs
cast to float32, output in the compute dtype) and takes the mask as the reference does.
"""

# ruff: noqa: F821 - batch_statistics and masked_statistics are the notebook's own

import keras
import numpy as np
from keras import ops

from solutions.mistakes import WrongVersion


def batch_statistics_unbiased(x):
    """Divides the squared deviations by n - 1, as torch.var and np.var(ddof=1) do."""
    axes = list(range(len(x.shape) - 1))
    count = 1
    for axis in axes:
        count *= ops.shape(x)[axis]
    count = ops.cast(count, x.dtype)
    mean = ops.sum(x, axis=axes) / count
    variance = ops.sum((x - mean) ** 2, axis=axes) / (count - 1)
    return mean, variance


def batch_statistics_per_sample(x):
    """Normalizes each sample on its own: every axis but the batch axis."""
    axes = list(range(1, len(x.shape)))
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(x - mean), axis=axes, keepdims=True)
    return mean, variance


def batch_statistics_all_axes(x):
    """One mean and one variance for the whole tensor, channels included."""
    mean = ops.mean(x)
    return mean, ops.mean((x - mean) * (x - mean))


def call_pytorch_momentum(self, inputs, training=None, mask=None):
    """momentum weighs the new batch statistic, as PyTorch's does."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        m = self.momentum
        self.moving_mean.assign((1 - m) * self.moving_mean + m * mean)
        self.moving_variance.assign((1 - m) * self.moving_variance + m * variance)
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = self.gamma * outputs
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_epsilon_outside(self, inputs, training=None, mask=None):
    """Adds epsilon to the standard deviation instead of to the variance."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
        self.moving_variance.assign(
            self.momentum * self.moving_variance + (1 - self.momentum) * variance
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / (ops.sqrt(variance) + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_batch_at_inference(self, inputs, training=None, mask=None):
    """Always normalizes with the batch's statistics; only the update depends on the mode."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    mean, variance = batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
    if training and self.trainable:
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_never_updated(self, inputs, training=None, mask=None):
    """Computes the new moving statistics but never assigns them to the variables."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        new_mean = self.moving_mean * self.momentum + mean * (1 - self.momentum)  # noqa: F841
        new_variance = (  # noqa: F841
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_mean_replaced(self, inputs, training=None, mask=None):
    """Updates moving_variance with .assign but rebinds self.moving_mean to a new tensor."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        self.moving_mean = self.moving_mean * self.momentum + mean * (1 - self.momentum)
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_trainable_ignored(self, inputs, training=None, mask=None):
    """Looks at `training` only: a frozen layer still uses and updates batch statistics."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    scale = self.gamma if self.scale else 1.0
    offset = self.beta if self.center else 0.0
    outputs = scale * (inputs - mean) * ops.rsqrt(variance + self.epsilon) + offset
    return ops.cast(outputs, self.compute_dtype)


def call_unbiased_moving_variance(self, inputs, training=None, mask=None):
    """Normalizes with the biased variance but, like PyTorch's running_var, moves the moving
    variance towards the unbiased one."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        count = 1
        for size in ops.shape(inputs)[:-1]:
            count *= size
        count = ops.cast(count, variance.dtype)
        unbiased = variance * count / (count - 1)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + unbiased * (1 - self.momentum)
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def call_stop_gradient(self, inputs, training=None, mask=None):
    """Treats the batch statistics as constants: no gradient flows through them."""
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    if training and self.trainable:
        mean, variance = (
            batch_statistics(inputs) if mask is None else masked_statistics(inputs, mask)
        )
        mean, variance = ops.stop_gradient(mean), ops.stop_gradient(variance)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
    else:
        mean, variance = self.moving_mean, self.moving_variance
    outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
    if self.scale:
        outputs = outputs * self.gamma
    if self.center:
        outputs = outputs + self.beta
    return ops.cast(outputs, self.compute_dtype)


def backward_constant_statistics(x, gamma, grad_output, epsilon=1e-3):
    """Differentiates gamma * (x - mean) / std + beta as if mean and std were numbers."""
    x, g = np.asarray(x, float), np.asarray(grad_output, float)
    axes = tuple(range(x.ndim - 1))
    std = np.sqrt(x.var(axis=axes) + epsilon)
    x_hat = (x - x.mean(axis=axes)) / std
    return g * gamma / std, np.sum(g * x_hat, axis=axes), np.sum(g, axis=axes)


def backward_constant_variance(x, gamma, grad_output, epsilon=1e-3):
    """Follows the path through the mean (centring the gradient) but not through the
    variance."""
    x, g = np.asarray(x, float), np.asarray(grad_output, float)
    axes = tuple(range(x.ndim - 1))
    std = np.sqrt(x.var(axis=axes) + epsilon)
    x_hat = (x - x.mean(axis=axes)) / std
    dx_hat = g * gamma
    grad_x = (dx_hat - dx_hat.mean(axis=axes)) / std
    return grad_x, np.sum(g * x_hat, axis=axes), np.sum(g, axis=axes)


def backward_gamma_raw(x, gamma, grad_output, epsilon=1e-3):
    """Right grad_x (the long way, through dvar and dmean), but dgamma = sum(g * x)."""
    x, g = np.asarray(x, float), np.asarray(grad_output, float)
    axes = tuple(range(x.ndim - 1))
    mean, variance = x.mean(axis=axes), x.var(axis=axes)
    m = x.size // x.shape[-1]
    centred = x - mean
    inv_std = 1.0 / np.sqrt(variance + epsilon)
    dx_hat = g * gamma
    dvar = np.sum(dx_hat * centred, axis=axes) * -0.5 * inv_std**3
    dmean = np.sum(-dx_hat * inv_std, axis=axes) + dvar * np.mean(-2.0 * centred, axis=axes)
    grad_x = dx_hat * inv_std + dvar * 2.0 * centred / m + dmean / m
    return grad_x, np.sum(g * x, axis=axes), np.sum(g, axis=axes)


def backward_unbiased(x, gamma, grad_output, epsilon=1e-3):
    """The compact formula, with the variance divided by n - 1 (np.var(ddof=1), torch.var)."""
    x, g = np.asarray(x, float), np.asarray(grad_output, float)
    axes = tuple(range(x.ndim - 1))
    std = np.sqrt(x.var(axis=axes, ddof=1) + epsilon)
    x_hat = (x - x.mean(axis=axes)) / std
    dx_hat = g * gamma
    grad_x = (dx_hat - dx_hat.mean(axis=axes) - x_hat * (dx_hat * x_hat).mean(axis=axes)) / std
    return grad_x, np.sum(g * x_hat, axis=axes), np.sum(g, axis=axes)


def backward_epsilon_outside(x, gamma, grad_output, epsilon=1e-3):
    """The staged derivation through the standard deviation, with std = sqrt(var) + eps."""
    x, g = np.asarray(x, float), np.asarray(grad_output, float)
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    centred = x - x.mean(axis=axes)
    root = np.sqrt(np.mean(centred**2, axis=axes))
    std = root + epsilon
    x_hat = centred / std
    dx_hat = g * gamma
    dstd = -np.sum(dx_hat * centred, axis=axes) / std**2
    dvar = dstd * 0.5 / root
    dcentred = dx_hat / std + dvar * 2.0 * centred / m
    grad_x = dcentred - dcentred.mean(axis=axes)
    return grad_x, np.sum(g * x_hat, axis=axes), np.sum(g, axis=axes)


M = "solutions.mistakes.batchnorm"
TRAINING = ("test_training_mode", "test_moving_statistics", "test_batchnorm_trains")
STATISTICS = ("test_batch_statistics", *TRAINING)

WRONG_VERSIONS = (
    WrongVersion(
        "unbiased_variance", {"batch_statistics": f"{M}:batch_statistics_unbiased"}, STATISTICS
    ),
    WrongVersion(
        "per_sample", {"batch_statistics": f"{M}:batch_statistics_per_sample"}, STATISTICS
    ),
    WrongVersion(
        "across_channels", {"batch_statistics": f"{M}:batch_statistics_all_axes"}, STATISTICS
    ),
    WrongVersion(
        "pytorch_momentum",
        {"BatchNormalization.call": f"{M}:call_pytorch_momentum"},
        ("test_moving_statistics", "test_batchnorm_trains"),
    ),
    WrongVersion(
        "epsilon_outside",
        {"BatchNormalization.call": f"{M}:call_epsilon_outside"},
        (
            "test_training_mode",
            "test_moving_statistics",
            "test_inference_mode",
            "test_trainable_false",
            "test_batchnorm_trains",
        ),
    ),
    WrongVersion(
        "batch_at_inference",
        {"BatchNormalization.call": f"{M}:call_batch_at_inference"},
        ("test_inference_mode", "test_trainable_false", "test_batchnorm_trains"),
    ),
    WrongVersion(
        "never_updated",
        {"BatchNormalization.call": f"{M}:call_never_updated"},
        ("test_moving_statistics", "test_batchnorm_trains"),
    ),
    WrongVersion(
        "variable_replaced",
        {"BatchNormalization.call": f"{M}:call_mean_replaced"},
        ("test_moving_statistics", "test_batchnorm_trains"),
    ),
    WrongVersion(
        "trainable_ignored",
        {"BatchNormalization.call": f"{M}:call_trainable_ignored"},
        ("test_trainable_false",),
    ),
    WrongVersion(
        "unbiased_variance",
        {"BatchNormalization.call": f"{M}:call_unbiased_moving_variance"},
        ("test_moving_statistics", "test_batchnorm_trains"),
    ),
    WrongVersion(
        "constant_statistics",
        {"BatchNormalization.call": f"{M}:call_stop_gradient"},
        ("test_batchnorm_trains",),
    ),
    WrongVersion(
        "constant_statistics",
        {"batchnorm_backward": f"{M}:backward_constant_statistics"},
        ("test_batchnorm_backward",),
    ),
    WrongVersion(
        "constant_variance",
        {"batchnorm_backward": f"{M}:backward_constant_variance"},
        ("test_batchnorm_backward",),
    ),
    WrongVersion(
        "gamma_gradient_raw",
        {"batchnorm_backward": f"{M}:backward_gamma_raw"},
        ("test_batchnorm_backward",),
    ),
    WrongVersion(
        "unbiased_variance",
        {"batchnorm_backward": f"{M}:backward_unbiased"},
        ("test_batchnorm_backward",),
    ),
    WrongVersion(
        "epsilon_outside",
        {"batchnorm_backward": f"{M}:backward_epsilon_outside"},
        ("test_batchnorm_backward",),
    ),
)
