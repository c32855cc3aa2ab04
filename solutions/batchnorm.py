"""Lesson 07, batch normalization: the statistics of a batch, the BatchNormalization layer with
its training and inference modes, and the backward pass of batch normalization.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
import numpy as np
from keras import ops


def batch_statistics(x):
    """Mean and variance of each channel of a batch, over every axis but the channel axis.

    Batch normalization treats every value of a channel alike, whichever image and whichever
    position it comes from: for inputs (N, H, W, C) the statistics of channel c are taken over
    all N * H * W values x[:, :, :, c]; for inputs (N, C) over the N values x[:, c].

    Args:
        x: tensor of shape (N, C) or (N, H, W, C), channels last.

    Returns:
        A pair `(mean, variance)` of tensors of shape (C,), in the dtype of `x` (float32 in,
        float32 out: the layer adds them to its float32 weights; if you compute in float64,
        cast back with `ops.cast(..., x.dtype)`). The variance is the biased one, the mean of
        the squared deviations (divided by the number of values, not by that number minus
        one), as Keras computes it.
    """
    ### BEGIN SOLUTION
    axes = tuple(range(len(x.shape) - 1))
    mean = ops.mean(x, axis=axes)
    variance = ops.mean(ops.square(x - mean), axis=axes)
    return mean, variance
    ### END SOLUTION


def masked_statistics(x, mask):
    """`batch_statistics` of the values that `mask` keeps (given code, not an exercise).

    Args:
        x: tensor of shape (N, C), (N, T, C) or (N, H, W, C), channels last.
        mask: booleans shaped like `x` without its last axis, as `Masking` and
            `Embedding(mask_zero=True)` attach to their outputs: x[n, t, :] counts where
            mask[n, t] is true.

    Returns:
        `(mean, variance)` of shape (C,) over the values kept, as Keras computes them (mean
        0 and variance 0 when none is).
    """
    kept = ops.broadcast_to(ops.expand_dims(ops.cast(mask, "bool"), -1), ops.shape(x))
    axes = tuple(range(len(x.shape) - 1))
    count = ops.maximum(ops.sum(ops.cast(kept, x.dtype), axis=axes), 1.0)
    mean = ops.sum(ops.where(kept, x, 0.0), axis=axes) / count
    variance = ops.sum(ops.where(kept, ops.square(x - mean), 0.0), axis=axes) / count
    return mean, variance


class BatchNormalization(keras.layers.Layer):
    """Normalizes each channel of its inputs, a drop-in for `keras.layers.BatchNormalization`.

    In training mode (`training=True`, as in `fit`) each channel is normalized with the mean
    and variance of the current batch, and the moving statistics take a small step towards
    them: `moving = moving * momentum + batch * (1 - momentum)`. In inference mode
    (`training=False` or not given, as in `predict` and `evaluate`) the moving statistics are
    used and nothing changes. Either way the result is scaled by `gamma` and shifted by
    `beta`: `gamma * (x - mean) / sqrt(variance + epsilon) + beta`. A layer with
    `trainable=False` is frozen: it always runs in inference mode. As in Keras, masked values
    (after `Masking`, say) stay out of the batch statistics, and under mixed precision the
    layer computes in float32 and keeps float32 weights.

    Not supported (refused with a `ValueError`): `axis` other than -1 (channels last, like
    every layer of the course), `renorm=True` (batch renormalization) and `synchronized=True`
    (statistics shared by the devices of a distribution strategy).

    Args:
        axis: the channel axis; must be -1.
        momentum: weight of the old value in the moving averages. Default 0.99.
        epsilon: small number added to the variance, inside the square root. Default 1e-3.
        center: if True (default), add the learned offset `beta`.
        scale: if True (default), multiply by the learned factor `gamma`.
        beta_initializer, gamma_initializer: initializers of `beta` ("zeros") and
            `gamma` ("ones").
        moving_mean_initializer, moving_variance_initializer: initializers of the moving
            statistics ("zeros" and "ones").
        beta_regularizer, gamma_regularizer: optional regularizers of `beta` and `gamma`.
        beta_constraint, gamma_constraint: optional constraints of `beta` and `gamma`.
        renorm, synchronized: must be False.
        renorm_clipping, renorm_momentum: unused without `renorm` (as in Keras).
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`, ...).

    Call arguments:
        inputs: tensor of shape (N, C) or (N, H, W, C).
        training: True for training mode; False or None for inference mode.
        mask: None, or booleans shaped like `inputs` without the channel axis: the values
            the batch statistics are taken over.

    Weights (created in this order, as Keras does): `gamma` (C,) if `scale`, `beta` (C,) if
    `center`, both trainable; `moving_mean` (C,) and `moving_variance` (C,), not trainable.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value, supported in (
            ("axis", axis, -1),
            ("renorm", renorm, False),
            ("synchronized", synchronized, False),
        ):
            if value != supported:
                raise ValueError(
                    f"BatchNormalization supports {name}={supported!r} only. "
                    f"Received: {name}={value!r}"
                )
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be between 0 and 1. Received: momentum={momentum}")
        if not epsilon > 0.0:
            raise ValueError(f"`epsilon` must be positive. Received: epsilon={epsilon}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.moving_mean_initializer = keras.initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = keras.initializers.get(moving_variance_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.renorm, self.synchronized = bool(renorm), bool(synchronized)
        self.renorm_clipping, self.renorm_momentum = renorm_clipping, renorm_momentum
        self.supports_masking = True
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None

    def build(self, input_shape):
        """Create gamma (if scale), beta (if center), moving_mean and moving_variance.

        `autocast=False` keeps each weight in its own dtype (float32) when the layer computes
        in float16 (mixed precision), as Keras's layer does: a moving variance of 70,000 does
        not fit in a float16.
        """
        channels = input_shape[-1]
        self.input_spec = keras.InputSpec(ndim=len(input_shape), axes={-1: channels})
        ### BEGIN SOLUTION
        shape = (channels,)
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=shape,
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=shape,
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        ### END SOLUTION

    def call(self, inputs, training=None, mask=None):
        """Normalize `inputs` with the batch's statistics (training, and trainable) or the
        moving ones, into `outputs`. With a `mask`, the batch's statistics are those of
        `masked_statistics(inputs, mask)`.

        Given code around the exercise: float16 inputs (mixed precision) become float32, and
        `outputs` return in the layer's compute dtype.
        """
        inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        ### BEGIN SOLUTION
        if training and self.trainable:
            if mask is None:
                mean, variance = batch_statistics(inputs)
            else:
                mean, variance = masked_statistics(inputs, mask)
            keep = self.momentum
            self.moving_mean.assign(self.moving_mean * keep + mean * (1.0 - keep))
            self.moving_variance.assign(self.moving_variance * keep + variance * (1.0 - keep))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * self.gamma
        if self.center:
            outputs = outputs + self.beta
        ### END SOLUTION
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
            "beta_regularizer": serialize(self.beta_regularizer),
            "gamma_regularizer": serialize(self.gamma_regularizer),
            "beta_constraint": serialize(self.beta_constraint),
            "gamma_constraint": serialize(self.gamma_constraint),
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
            "synchronized": self.synchronized,
        }


def batchnorm_backward(x, gamma, grad_output, epsilon=1e-3):
    """The backward pass of batch normalization in training mode.

    The forward pass is y = gamma * x_hat + beta with x_hat = (x - mean) / sqrt(var + epsilon),
    where mean and var are the batch statistics of each channel (over every axis but the
    last, var biased). Both depend on every x of their channel, and the gradient must flow
    through them too.

    Args:
        x: array of shape (N, C) or (N, H, W, C), the inputs of the forward pass.
        gamma: array of shape (C,).
        grad_output: array shaped like x, the gradient dL/dy of a loss L.
        epsilon: the epsilon of the forward pass.

    Returns:
        `(grad_x, grad_gamma, grad_beta)`: dL/dx shaped like x, dL/dgamma and dL/dbeta of
        shape (C,).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(grad_output, dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    std = np.sqrt(x.var(axis=axes) + epsilon)
    x_hat = (x - mean) / std
    grad_beta = g.sum(axis=axes)
    grad_gamma = (g * x_hat).sum(axis=axes)
    grad_x_hat = g * np.asarray(gamma, dtype=np.float64)
    grad_x = (
        grad_x_hat - grad_x_hat.mean(axis=axes) - x_hat * (grad_x_hat * x_hat).mean(axis=axes)
    ) / std
    return grad_x, grad_gamma, grad_beta
    ### END SOLUTION


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"BatchNormalization": (BatchNormalization, "batch_normalization_test.py")}
