"""Lesson 07's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: flattening to (values, channels) and einsum, ops.moments, mean(x^2) - mean(x)^2, a
fused scale-and-offset form, the moving update as assign_sub, a class written from scratch;
for the backward pass the staged cs231n derivation, keras.ops in float32, and explicit
per-channel Jacobian matrices in loops.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons
from autograder.checks import batchnorm as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases as drawn
from autograder.harness import ops as harness_ops
from solutions.batchnorm import BatchNormalization as ReferenceBatchNormalization
from solutions.batchnorm import batch_statistics as reference_statistics
from solutions.batchnorm import batchnorm_backward as reference_backward

cases = lessons.module("07_batchnorm", "cases")
lesson_ops = lessons.module("07_batchnorm", "ops")
layers = lessons.module("07_batchnorm", "layers")
catalogue = lessons.module("07_batchnorm", "mistakes")

# --- independent batch_statistics ----------------------------------------------------------------


def statistics_einsum(x):
    """Flatten to (values, channels), then sums as einsums."""
    flat = ops.reshape(x, (-1, x.shape[-1]))
    count = flat.shape[0]
    mean = ops.einsum("mc->c", flat) / count
    centred = flat - mean
    return mean, ops.einsum("mc,mc->c", centred, centred) / count


def statistics_moments(x):
    return ops.moments(x, axes=list(range(len(x.shape) - 1)))


def statistics_squares(x):
    """mean(x^2) - mean(x)^2: cheaper, less accurate, still within the tolerance."""
    axes = tuple(range(len(x.shape) - 1))
    mean = ops.mean(x, axis=axes)
    return mean, ops.mean(ops.square(x), axis=axes) - ops.square(mean)


def statistics_numpy_loops(x):
    """NumPy, one channel at a time (fine for this function, useless inside a layer)."""
    x = np.asarray(x, np.float64)
    means, variances = [], []
    for c in range(x.shape[-1]):
        values = x[..., c].ravel()
        mean = sum(values) / len(values)
        means.append(mean)
        variances.append(sum((v - mean) ** 2 for v in values) / len(values))
    return np.array(means), np.array(variances)


STATISTICS = [
    reference_statistics,
    statistics_einsum,
    statistics_moments,
    statistics_squares,
    statistics_numpy_loops,
]

# --- independent layers --------------------------------------------------------------------------


class FlatBatchNormalization(ReferenceBatchNormalization):
    """Own build and call: flatten to (values, channels), ops.var (a mask as weights of the
    rows), rsqrt, assign_sub."""

    def build(self, input_shape):
        shape = (input_shape[-1],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                initializer=self.gamma_initializer,
                name="gamma",
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                initializer=self.beta_initializer,
                name="beta",
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape,
            initializer=self.moving_mean_initializer,
            name="moving_mean",
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            initializer=self.moving_variance_initializer,
            name="moving_variance",
            trainable=False,
            autocast=False,
        )

    def call(self, inputs, training=None, mask=None):
        inputs = ops.cast(inputs, "float32")
        shape = ops.shape(inputs)
        flat = ops.reshape(inputs, (-1, shape[-1]))
        if training and self.trainable:
            if mask is None:
                mean, variance = ops.mean(flat, axis=0), ops.var(flat, axis=0)
            else:
                rows = ops.reshape(ops.cast(mask, "float32"), (-1, 1))
                count = ops.maximum(ops.sum(rows), 1.0)
                mean = ops.sum(flat * rows, axis=0) / count
                variance = ops.sum(ops.square(flat - mean) * rows, axis=0) / count
            step = 1.0 - self.momentum
            self.moving_mean.assign_sub(step * (self.moving_mean - mean))
            self.moving_variance.assign_sub(step * (self.moving_variance - variance))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        out = (flat - mean) * ops.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma
        if self.beta is not None:
            out = out + self.beta
        return ops.cast(ops.reshape(out, shape), self.compute_dtype)


class FusedBatchNormalization(ReferenceBatchNormalization):
    """One multiply and one add per value: x * scale + offset, statistics as mean(x^2) -
    mean(x)^2, the training flag resolved first."""

    def call(self, inputs, training=None, mask=None):
        learning = bool(training) and self.trainable
        inputs = ops.cast(inputs, "float32")
        axes = list(range(len(inputs.shape) - 1))
        if learning:
            # (the mask given one more axis without inputs.shape: its batch size is None when
            # model.fit traces a last, smaller batch)
            kept = ops.ones_like(inputs[..., :1]) if mask is None else ops.cast(mask, "float32")
            kept = kept if mask is None else ops.expand_dims(kept, -1)
            count = ops.sum(kept)
            mean = ops.sum(inputs * kept, axis=axes) / count
            variance = ops.sum(inputs * inputs * kept, axis=axes) / count - mean * mean
            m = self.momentum
            self.moving_mean.assign(m * self.moving_mean + (1 - m) * mean)
            self.moving_variance.assign(m * self.moving_variance + (1 - m) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = 1.0 / ops.sqrt(variance + self.epsilon)
        if self.scale:
            scale = scale * self.gamma
        offset = -mean * scale
        if self.center:
            offset = offset + self.beta
        return ops.cast(inputs * scale + offset, self.compute_dtype)


class ScratchBatchNormalization(keras.layers.Layer):
    """Written from scratch, its own constructor and config; einsum for the scale."""

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
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.settings = {
            "gamma": (gamma_initializer, gamma_regularizer, gamma_constraint),
            "beta": (beta_initializer, beta_regularizer, beta_constraint),
            "moving_mean": (moving_mean_initializer, None, None),
            "moving_variance": (moving_variance_initializer, None, None),
        }

    def build(self, input_shape):
        wanted = [name for name, on in (("gamma", self.scale), ("beta", self.center)) if on]
        for name in [*wanted, "moving_mean", "moving_variance"]:
            initializer, regularizer, constraint = self.settings[name]
            setattr(
                self,
                name,
                self.add_weight(
                    name=name,
                    shape=(input_shape[-1],),
                    initializer=keras.initializers.get(initializer),
                    regularizer=keras.regularizers.get(regularizer),
                    constraint=keras.constraints.get(constraint),
                    trainable=not name.startswith("moving"),
                    autocast=False,
                ),
            )

    def call(self, inputs, training=False, mask=None):
        inputs = ops.cast(inputs, "float32")
        if training and self.trainable:
            axes = tuple(range(len(inputs.shape) - 1))
            if mask is None:
                mask = ops.ones_like(inputs[..., 0], dtype="bool")  # not inputs.shape: None in fit
            kept = ops.expand_dims(ops.cast(mask, "bool"), -1)
            count = ops.sum(ops.cast(kept, "float32"), axis=axes, keepdims=True)
            mean = ops.sum(ops.where(kept, inputs, 0.0), axis=axes, keepdims=True) / count
            centred = ops.where(kept, inputs - mean, 0.0)
            variance = ops.sum(ops.square(centred), axis=axes, keepdims=True) / count
            mean, variance = ops.reshape(mean, (-1,)), ops.reshape(variance, (-1,))
            for variable, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
                variable.assign(variable * self.momentum + value * (1 - self.momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        normalized = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        if self.scale:
            normalized = ops.einsum("...c,c->...c", normalized, self.gamma)
        normalized = normalized + self.beta if self.center else normalized
        return ops.cast(normalized, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }
        for name, (initializer, regularizer, constraint) in self.settings.items():
            config[f"{name}_initializer"] = keras.initializers.serialize(
                keras.initializers.get(initializer)
            )
            if not name.startswith("moving"):
                config[f"{name}_regularizer"] = keras.regularizers.serialize(
                    keras.regularizers.get(regularizer)
                )
                config[f"{name}_constraint"] = keras.constraints.serialize(
                    keras.constraints.get(constraint)
                )
        return {**super().get_config(), **config}


class NumpyBatchNormalization(ReferenceBatchNormalization):
    """Right numbers in eager mode, computed in NumPy: no gradient, no graph."""

    def call(self, inputs, training=None, mask=None):
        x = ops.convert_to_numpy(inputs).astype(np.float64)
        if training and self.trainable:
            rows = x.reshape(-1, x.shape[-1])
            kept = rows if mask is None else x[ops.convert_to_numpy(mask).astype(bool)]
            mean, variance = kept.mean(axis=0), kept.var(axis=0)
            m = self.momentum
            self.moving_mean.assign(m * ops.convert_to_numpy(self.moving_mean) + (1 - m) * mean)
            self.moving_variance.assign(
                m * ops.convert_to_numpy(self.moving_variance) + (1 - m) * variance
            )
        else:
            mean = ops.convert_to_numpy(self.moving_mean)
            variance = ops.convert_to_numpy(self.moving_variance)
        out = (x - mean) / np.sqrt(variance + self.epsilon)
        if self.scale:
            out = out * ops.convert_to_numpy(self.gamma)
        if self.center:
            out = out + ops.convert_to_numpy(self.beta)
        return ops.cast(ops.convert_to_tensor(out.astype("float32")), self.compute_dtype)


for _cls in (
    FlatBatchNormalization,
    FusedBatchNormalization,
    ScratchBatchNormalization,
    NumpyBatchNormalization,
):
    _cls.__name__ = "BatchNormalization"

LAYERS = [
    ReferenceBatchNormalization,
    FlatBatchNormalization,
    FusedBatchNormalization,
    ScratchBatchNormalization,
]

# --- independent backward passes -----------------------------------------------------------------


def backward_staged(x, gamma, grad_output, epsilon=1e-3):
    """The cs231n way: through dvar and dmean, step by step, in float64."""
    x, g = np.asarray(x, np.float64), np.asarray(grad_output, np.float64)
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mean = x.mean(axis=axes)
    centred = x - mean
    variance = (centred**2).mean(axis=axes)
    inv_std = 1.0 / np.sqrt(variance + epsilon)
    dx_hat = g * gamma
    dvar = np.sum(dx_hat * centred, axis=axes) * -0.5 * inv_std**3
    dmean = -np.sum(dx_hat, axis=axes) * inv_std + dvar * np.mean(-2.0 * centred, axis=axes)
    grad_x = dx_hat * inv_std + dvar * 2.0 * centred / m + dmean / m
    return grad_x, np.sum(g * centred * inv_std, axis=axes), np.sum(g, axis=axes)


def backward_ops_float32(x, gamma, grad_output, epsilon=1e-3):
    """keras.ops in float32, returning tensors."""
    x = ops.convert_to_tensor(np.asarray(x, "float32"))
    g = ops.convert_to_tensor(np.asarray(grad_output, "float32"))
    gamma = ops.convert_to_tensor(np.asarray(gamma, "float32"))
    axes = tuple(range(len(x.shape) - 1))
    mean, variance = ops.moments(x, axes)
    inv = ops.rsqrt(variance + epsilon)
    x_hat = (x - mean) * inv
    h = g * gamma
    grad_x = inv * (h - ops.mean(h, axis=axes) - x_hat * ops.mean(h * x_hat, axis=axes))
    return grad_x, ops.sum(g * x_hat, axis=axes), ops.sum(g, axis=axes)


def backward_jacobian_loops(x, gamma, grad_output, epsilon=1e-3):
    """Per channel, the explicit Jacobian d x_hat / d x as an m x m matrix."""
    x, g = np.asarray(x, np.float64), np.asarray(grad_output, np.float64)
    channels = x.shape[-1]
    flat_x, flat_g = x.reshape(-1, channels), g.reshape(-1, channels)
    m = flat_x.shape[0]
    grad_x = np.empty_like(flat_x)
    grad_gamma, grad_beta = np.empty(channels), np.empty(channels)
    for c in range(channels):
        values = flat_x[:, c]
        std = np.sqrt(values.var() + epsilon)
        x_hat = (values - values.mean()) / std
        jacobian = (np.eye(m) - 1.0 / m - np.outer(x_hat, x_hat) / m) / std
        grad_x[:, c] = jacobian.T @ (flat_g[:, c] * gamma[c])
        grad_gamma[c] = flat_g[:, c] @ x_hat
        grad_beta[c] = flat_g[:, c].sum()
    return grad_x.reshape(x.shape), grad_gamma, grad_beta


BACKWARDS = [reference_backward, backward_staged, backward_ops_float32, backward_jacobian_loops]


# --- correct code passes -------------------------------------------------------------------------


@pytest.mark.parametrize("fn", STATISTICS, ids=lambda f: f.__name__)
def test_statistics_checks_pass_correct_code(fn):
    checks.check_batch_statistics(fn)
    checks.check_batch_statistics(fn, hidden=True)


@pytest.mark.parametrize("cls", LAYERS, ids=["reference", "flat", "fused", "scratch"])
def test_layer_checks_pass_correct_code(cls):
    checks.check_batchnorm_contract(cls)
    for check in (
        checks.check_training_mode,
        checks.check_moving_statistics,
        checks.check_inference_mode,
    ):
        check(cls)
        check(cls, hidden=True)
    checks.check_trainable_false(cls)
    checks.check_batchnorm_trains(cls)


@pytest.mark.parametrize("fn", BACKWARDS, ids=lambda f: f.__name__)
def test_backward_checks_pass_correct_code(fn):
    checks.check_batchnorm_backward(fn)
    checks.check_batchnorm_backward(fn, hidden=True)


def test_a_numpy_layer_gets_the_numbers_but_cannot_train():
    checks.check_training_mode(NumpyBatchNormalization, hidden=True)
    checks.check_inference_mode(NumpyBatchNormalization, hidden=True)
    with pytest.raises(CheckFailed, match="gradient|raised"):
        checks.check_batchnorm_trains(NumpyBatchNormalization)


# --- tolerances over seeds -----------------------------------------------------------------------


def _random_setup(rng, momentum=True):
    shape = cases.draw_shape(rng)
    kwargs = cases.draw_kwargs(rng, momentum=momentum)
    spread = cases.channel_spread(rng, shape[-1])
    batches = cases.draw_batches(rng, shape, 3, spread)
    return shape, kwargs, batches, cases.draw_weights(rng, shape[-1], kwargs, spread)


@pytest.mark.parametrize("seed", range(20))
def test_statistics_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(700 + seed)
    shape, _, batches, _ = _random_setup(rng)
    mean, variance = catalogue.statistics(batches[0])
    for fn in STATISTICS:
        got_mean, got_variance = fn(batches[0])
        assert compare(got_mean, mean, cases.STATISTICS_TOL) is None, fn
        assert compare(got_variance, variance, cases.STATISTICS_TOL) is None, fn


@pytest.mark.parametrize("seed", range(20))
def test_layer_tolerances_hold_over_seeds(seed):
    rng = np.random.default_rng(800 + seed)
    shape, kwargs, batches, weights = _random_setup(rng)
    theirs = lesson_ops.call_steps(layers.keras_layer(kwargs, shape, weights), batches, True)
    frozen = lesson_ops.call_steps(layers.keras_layer(kwargs, shape, weights), batches, False)
    upstream = rng.normal(size=shape).astype("float32")
    gradient = harness_ops.gradients(
        layers.keras_layer(kwargs, shape, weights), batches[0], upstream, training=True
    )
    for cls in LAYERS:
        layer = cls(**kwargs)
        layer.build((None, *shape[1:]))
        harness_ops.assign(layer, weights)
        ours = lesson_ops.call_steps(layer, batches, True)
        for step in range(len(batches)):
            assert compare(ours["outputs"][step], theirs["outputs"][step], cases.OUTPUT_TOL) is None
            for name in ("moving_mean", "moving_variance"):
                got, wanted = ours["weights"][step][name], theirs["weights"][step][name]
                assert compare(got, wanted, cases.MOVING_TOL) is None, (cls, name)
        inference = lesson_ops.call_steps(layer, batches, False)
        layer = cls(**kwargs)
        layer.build((None, *shape[1:]))
        harness_ops.assign(layer, weights)
        inference = lesson_ops.call_steps(layer, batches, False)
        for got, wanted in zip(inference["outputs"], frozen["outputs"], strict=True):
            assert compare(got, wanted, cases.OUTPUT_TOL) is None, cls
        layer = cls(**kwargs)
        layer.build((None, *shape[1:]))
        harness_ops.assign(layer, weights)
        ours = harness_ops.gradients(layer, batches[0], upstream, training=True)
        assert compare(ours["inputs"], gradient["inputs"], cases.GRADIENT_TOL) is None, cls
        for name, wanted in gradient["weights"].items():
            assert compare(ours["weights"][name], wanted, cases.GRADIENT_TOL) is None, cls


@pytest.mark.parametrize("seed", range(20))
def test_masked_and_mixed_tolerances_hold_over_seeds(seed):
    """With a mask, OUTPUT_TOL and MOVING_TOL; under mixed precision, MIXED_TOL."""
    rng = np.random.default_rng(850 + seed)
    shape, kwargs, batches, weights = _random_setup(rng)
    with drawn.fresh(seed):
        mask, _ = cases.draw_mask(shape, 0, batches)
    for extra, given, tolerance in (
        ({}, mask, cases.OUTPUT_TOL),
        ({"dtype": cases.MIXED}, None, cases.MIXED_TOL),
    ):
        settings = {**kwargs, **extra}
        keras_layer = layers.keras_layer(settings, shape, weights)
        theirs = lesson_ops.call_steps(keras_layer, batches, True, given)
        for cls in LAYERS:
            layer = cls(**settings)
            layer.build((None, *shape[1:]))
            harness_ops.assign(layer, weights)
            ours = lesson_ops.call_steps(layer, batches, True, given)
            for step in range(len(batches)):
                got, wanted = ours["outputs"][step], theirs["outputs"][step]
                assert compare(got, wanted, tolerance) is None, (cls, extra)
                assert got.dtype == wanted.dtype, (cls, extra)
                for name in ("moving_mean", "moving_variance"):
                    got, wanted = ours["weights"][step][name], theirs["weights"][step][name]
                    assert compare(got, wanted, cases.MOVING_TOL) is None, (cls, name, extra)


@pytest.mark.parametrize("seed", range(10))
def test_large_gamma_cases_hold_mixed_tol_over_seeds(seed):
    """Under mixed precision with gamma +-70,000 (beyond float16), inference-mode outputs are
    finite, float16 and within MIXED_TOL of Keras's, for every correct layer."""
    shape, kwargs = cases.draw_shape(np.random.default_rng(1100 + seed)), {"dtype": cases.MIXED}
    with drawn.fresh(seed):
        batches, weights = cases.case_data(shape, kwargs, 0, 2, large_gamma=True)
    assert np.all(np.abs(weights["gamma"]) > np.finfo(np.float16).max)
    theirs = lesson_ops.call_steps(layers.keras_layer(kwargs, shape, weights), batches, False)
    for cls in LAYERS:
        layer = cls(**kwargs)
        layer.build((None, *shape[1:]))
        harness_ops.assign(layer, weights)
        ours = lesson_ops.call_steps(layer, batches, False)
        for got, wanted in zip(ours["outputs"], theirs["outputs"], strict=True):
            assert np.isfinite(wanted).all() and wanted.dtype == np.float16
            assert compare(got, wanted, cases.MIXED_TOL) is None, cls
            assert got.dtype == wanted.dtype, cls


@pytest.mark.parametrize("seed", range(20))
def test_backward_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(900 + seed)
    shape = cases.draw_shape(rng)
    epsilon = round(cases.wide(rng, 1e-5, 0.5), 6)
    with drawn.fresh(seed):
        x, gamma, grad_output = cases.backward_data(shape, 0)
    expected = cases.autodiff_backward(x, gamma, grad_output, epsilon)
    for fn in BACKWARDS:
        for got, wanted in zip(fn(x, gamma, grad_output, epsilon), expected, strict=True):
            assert compare(got, wanted, cases.BACKWARD_TOL) is None, fn


@pytest.mark.parametrize("seed", range(10))
def test_the_simulation_agrees_with_keras(seed):
    """The NumPy model that names mistakes is Keras's layer when no flag is set."""
    rng = np.random.default_rng(1000 + seed)
    shape, kwargs, batches, weights = _random_setup(rng)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("center", "scale")}
    weights = {
        **weights,
        "gamma": weights.get("gamma", np.ones(shape[-1], "float32")),
        "beta": weights.get("beta", np.zeros(shape[-1], "float32")),
    }
    steps = [(batches[0], True), (batches[1], True), (batches[2], False), (batches[2], None)]
    layer = layers.keras_layer(kwargs, shape, weights)
    results = []
    for x, training in steps:
        out = lesson_ops.call_steps(layer, [x], training)
        state = out["weights"][0]
        results.append((out["outputs"][0], state["moving_mean"], state["moving_variance"]))
    wanted = catalogue.simulate(steps, weights, **kwargs)
    np.testing.assert_allclose(
        catalogue.pack(results), catalogue.pack(wanted), atol=1e-4, rtol=1e-4
    )


@pytest.mark.parametrize("seed", range(10))
def test_the_backward_model_is_autodiff(seed):
    rng = np.random.default_rng(1100 + seed)
    shape = cases.draw_shape(rng)
    x, gamma, g = rng.normal(size=shape), rng.normal(size=shape[-1]), rng.normal(size=shape)
    for got, wanted in zip(
        catalogue.backward(x, gamma, g, 0.01),
        cases.autodiff_backward(x, gamma, g, 0.01),
        strict=True,
    ):
        np.testing.assert_allclose(got, wanted, atol=1e-9, rtol=1e-9)


def test_the_worked_example_is_right():
    mean, variance = keras.ops.moments(cases.HAND_X, axes=[0])
    np.testing.assert_array_equal(np.asarray(mean), cases.HAND_MEAN)
    np.testing.assert_array_equal(np.asarray(variance), cases.HAND_VARIANCE)


@pytest.mark.parametrize("seed", range(20))
def test_the_disguised_worked_example_is_exact(seed):
    with drawn.fresh(seed):
        x, mean, variance, words = cases.hand_example()
    assert "shuffled" in words
    axes = list(range(x.ndim - 1))
    got_mean, got_variance = keras.ops.moments(x, axes=axes)
    np.testing.assert_array_equal(np.asarray(got_mean), mean)
    np.testing.assert_array_equal(np.asarray(got_variance), variance)


# --- fresh cases, as when grading ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_function_checks_pass_correct_code_on_fresh_cases(seed):
    with drawn.fresh(seed):
        for fn in STATISTICS:
            checks.check_batch_statistics(fn)
            checks.check_batch_statistics(fn, hidden=True)
        for fn in BACKWARDS:
            checks.check_batchnorm_backward(fn)
            checks.check_batchnorm_backward(fn, hidden=True)


@pytest.mark.parametrize("seed", range(3))
def test_layer_checks_pass_correct_code_on_fresh_cases(seed):
    with drawn.fresh(seed):
        for cls in LAYERS:
            checks.check_training_mode(cls, hidden=True)
            checks.check_moving_statistics(cls, hidden=True)
            checks.check_inference_mode(cls, hidden=True)
        for cls in (ReferenceBatchNormalization, FusedBatchNormalization):
            checks.check_trainable_false(cls)
            checks.check_batchnorm_trains(cls)


@pytest.mark.parametrize("seed", range(5))
def test_wrong_functions_fail_on_fresh_cases(seed):
    from solutions.mistakes import batchnorm as wrong

    with drawn.fresh(seed):
        for fn in (
            wrong.batch_statistics_unbiased,
            wrong.batch_statistics_per_sample,
            wrong.batch_statistics_all_axes,
        ):
            for hidden in (False, True):
                with pytest.raises(CheckFailed, match="Likely mistake"):
                    checks.check_batch_statistics(fn, hidden=hidden)
        for fn in (
            wrong.backward_constant_statistics,
            wrong.backward_constant_variance,
            wrong.backward_gamma_raw,
            wrong.backward_unbiased,
            wrong.backward_epsilon_outside,
        ):
            for hidden in (False, True):
                with pytest.raises(CheckFailed, match="Likely mistake"):
                    checks.check_batchnorm_backward(fn, hidden=hidden)


# --- the guard -----------------------------------------------------------------------------------

X = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
MEAN, VARIANCE = np.zeros(2, "float32"), np.ones(2, "float32")


@pytest.mark.parametrize(
    "builtin",
    [
        lambda: keras.layers.BatchNormalization()(X, training=True),
        lambda: ops.batch_normalization(X, MEAN, VARIANCE, axis=-1),
        lambda: tf.nn.batch_normalization(X, MEAN, VARIANCE, None, None, 1e-3),
        lambda: tf.compat.v1.nn.fused_batch_norm(X, np.ones(2, "float32"), MEAN),
        lambda: tf.raw_ops.FusedBatchNormV3(
            x=X,
            scale=np.ones(2, "float32"),
            offset=MEAN,
            mean=MEAN,
            variance=VARIANCE,
            is_training=True,
        ),
    ],
    ids=[
        "BatchNormalization",
        "ops.batch_normalization",
        "tf.nn.batch_normalization",
        "fused_batch_norm",
        "raw FusedBatchNormV3",
    ],
)
def test_guard_catches_builtin_batch_normalization(builtin):
    with forbid(checks.BATCHNORM.names, checks.BATCHNORM.op_types) as hits:
        builtin()
    assert hits


def test_guard_catches_autodiff_in_the_backward_pass():
    def with_tape(x, gamma, grad_output, epsilon=1e-3):
        x = tf.constant(x)
        layer = ReferenceBatchNormalization(epsilon=epsilon, dtype="float64")
        layer.build(x.shape)
        layer.gamma.assign(gamma)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        grads = tape.gradient(y, [x, layer.gamma, layer.beta], output_gradients=grad_output)
        return tuple(g.numpy() for g in grads)

    with pytest.raises(CheckFailed, match="automatic differentiation"):
        checks.check_batchnorm_backward(with_tape)


def test_guard_allows_the_ops_a_student_needs():
    with forbid(checks.BACKWARD.names, checks.BACKWARD.op_types) as hits:
        ops.moments(X, axes=[0, 1, 2])
        ops.var(X, axis=0)
        ops.rsqrt(ops.mean(ops.square(X), axis=0) + 1e-3)
        ops.einsum("...c,c->...c", X, np.ones(2, "float32"))
        layer = ReferenceBatchNormalization()
        layer(X, training=True)
        layer(X)
        reference_backward(X, np.ones(2), np.ones_like(X))
        backward_ops_float32(X, np.ones(2), np.ones_like(X))
    assert hits == []


def test_keras_layer_itself_is_refused():
    class BatchNormalization(keras.layers.BatchNormalization):
        pass

    with pytest.raises(CheckFailed, match="built-in batch normalization"):
        checks.check_training_mode(BatchNormalization)


# --- stubs and broken output ---------------------------------------------------------------------


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_batch_statistics(stub)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_batchnorm_backward(stub)

    class BatchNormalization(ReferenceBatchNormalization):
        def call(self, inputs, training=None):
            raise NotImplementedError()

    for check in (
        checks.check_training_mode,
        checks.check_inference_mode,
        checks.check_trainable_false,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(BatchNormalization)


def test_nan_output_is_named():
    def nan_backward(x, gamma, grad_output, epsilon=1e-3):
        grad_x, grad_gamma, grad_beta = reference_backward(x, gamma, grad_output, epsilon)
        grad_x[0] = np.nan
        return grad_x, grad_gamma, grad_beta

    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_batchnorm_backward(nan_backward)


def test_wrong_return_types_are_explained():
    with pytest.raises(CheckFailed, match="expected a pair"):
        checks.check_batch_statistics(lambda x: ops.mean(x, axis=0))
    with pytest.raises(CheckFailed, match="expected a triple"):
        checks.check_batchnorm_backward(
            lambda x, gamma, g, epsilon: reference_backward(x, gamma, g, epsilon)[0]
        )


def test_weights_in_another_order_are_refused():
    class BatchNormalization(ReferenceBatchNormalization):
        def build(self, input_shape):
            shape = (input_shape[-1],)
            if self.center:
                self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros")
            if self.scale:
                self.gamma = self.add_weight(name="gamma", shape=shape, initializer="ones")
            self.moving_mean = self.add_weight(
                name="moving_mean", shape=shape, initializer="zeros", trainable=False
            )
            self.moving_variance = self.add_weight(
                name="moving_variance", shape=shape, initializer="ones", trainable=False
            )

    with pytest.raises(CheckFailed, match="another order"):
        checks.check_batchnorm_contract(BatchNormalization)


def test_trainable_moving_statistics_are_refused():
    class BatchNormalization(ReferenceBatchNormalization):
        def build(self, input_shape):
            shape = (input_shape[-1],)
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer="ones")
            self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros")
            self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer="zeros")
            self.moving_variance = self.add_weight(
                name="moving_variance", shape=shape, initializer="ones"
            )

    with pytest.raises(CheckFailed, match="moving_mean is trainable"):
        checks.check_batchnorm_contract(BatchNormalization)


def test_a_flag_read_once_at_construction_is_caught():
    class BatchNormalization(ReferenceBatchNormalization):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.frozen = not self.trainable

        def call(self, inputs, training=None):
            if training and not self.frozen:
                mean, variance = reference_statistics(inputs)
                m = self.momentum
                self.moving_mean.assign(self.moving_mean * m + mean * (1 - m))
                self.moving_variance.assign(self.moving_variance * m + variance * (1 - m))
            else:
                mean, variance = self.moving_mean, self.moving_variance
            return self.gamma * (inputs - mean) / ops.sqrt(variance + self.epsilon) + self.beta

    with pytest.raises(CheckFailed, match="layer.trainable = False"):
        checks.check_trainable_false(BatchNormalization)


# --- masks and mixed precision (issue 16): wrong layers the checks used to pass ----------------


class MaskIgnoringBatchNormalization(ReferenceBatchNormalization):
    """Takes its statistics over every position, kept by the mask or not."""

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs, training=training)


class UnmaskedMovingBatchNormalization(ReferenceBatchNormalization):
    """Normalizes with the masked statistics but moves the moving ones towards the unmasked."""

    def call(self, inputs, training=None, mask=None):
        if mask is None or not (training and self.trainable):
            return super().call(inputs, training=training, mask=mask)
        before = [
            ops.convert_to_numpy(self.moving_mean),
            ops.convert_to_numpy(self.moving_variance),
        ]
        outputs = super().call(inputs, training=training, mask=mask)
        self.moving_mean.assign(before[0])
        self.moving_variance.assign(before[1])
        super().call(inputs, training=training)
        return outputs


class AutocastWeightsBatchNormalization(ReferenceBatchNormalization):
    """Weights made with add_weight's default autocast=True: read as float16 under mixed
    precision."""

    def add_weight(self, *args, autocast=False, **kwargs):
        return super().add_weight(*args, **kwargs)


class Float16WeightsBatchNormalization(ReferenceBatchNormalization):
    """Weights made in the compute dtype: float16 under mixed precision."""

    def add_weight(self, *args, autocast=False, **kwargs):
        return super().add_weight(*args, dtype=self.compute_dtype, **kwargs)


class AutocastGammaBatchNormalization(ReferenceBatchNormalization):
    """Only gamma made with add_weight's default autocast=True: read as float16 under mixed
    precision, which rounds it (within MIXED_TOL) or, beyond 65,504, makes it inf."""

    def add_weight(self, *args, autocast=False, **kwargs):
        given = {} if kwargs.get("name") == "gamma" else {"autocast": autocast}
        return super().add_weight(*args, **kwargs, **given)


class AutocastFoldedBatchNormalization(ReferenceBatchNormalization):
    """Keras's own arithmetic (moving += (batch - moving) * (1 - momentum), gamma folded into
    one factor) on weights made with add_weight's default autocast=True: nothing raises under
    mixed precision, the moving statistics come out rounded through float16."""

    def add_weight(self, *args, autocast=False, **kwargs):
        return super().add_weight(*args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        inputs = ops.cast(inputs, "float32")
        if training and self.trainable:
            mean, variance = reference_statistics(inputs)
            step = 1.0 - self.momentum
            self.moving_mean.assign(self.moving_mean + (mean - self.moving_mean) * step)
            self.moving_variance.assign(
                self.moving_variance + (variance - self.moving_variance) * step
            )
        else:
            mean, variance = self.moving_mean, self.moving_variance
        factor = ops.rsqrt(variance + self.epsilon) * self.gamma
        outputs = inputs * factor + (self.beta - mean * factor)
        return ops.cast(outputs, self.compute_dtype)


for _cls in (
    AutocastFoldedBatchNormalization,
    AutocastGammaBatchNormalization,
    MaskIgnoringBatchNormalization,
    UnmaskedMovingBatchNormalization,
    AutocastWeightsBatchNormalization,
    Float16WeightsBatchNormalization,
):
    _cls.__name__ = "BatchNormalization"


def _passes_without_masks_or_mixed_precision(cls):
    """The layer passes the layer checks as they were before masks and mixed precision (the
    same tables without their masked and mixed-precision cases)."""
    tables = ("TRAINING_CASES", "MOVING_CASES", "INFERENCE_CASES")
    masked = ("MASKED_TRAINING_CASES", "MASKED_MOVING_CASES", "LARGE_GAMMA_CASES")
    masked += ("MASKED_INFERENCE_CASES",)
    saved = {name: dict(getattr(cases, name)) for name in (*tables, *masked)}
    try:
        for name in tables:
            for kind, rows in saved[name].items():
                getattr(cases, name)[kind] = [r for r in rows if "dtype" not in r[1]]
        for name in masked:
            getattr(cases, name).update(public=[], hidden=[])
        for mode in ("training_mode", "moving_statistics", "inference_mode"):
            getattr(checks, f"check_{mode}")(cls)
            getattr(checks, f"check_{mode}")(cls, hidden=True)
    finally:
        for name, table in saved.items():
            getattr(cases, name).update(table)


def test_a_layer_that_ignores_its_mask_fails():
    _passes_without_masks_or_mixed_precision(MaskIgnoringBatchNormalization)
    checks.check_batchnorm_contract(MaskIgnoringBatchNormalization)
    for check in (checks.check_training_mode, checks.check_moving_statistics):
        with pytest.raises(CheckFailed, match="with a mask keeping"):
            check(MaskIgnoringBatchNormalization)


def test_moving_statistics_of_the_unmasked_batch_fail():
    _passes_without_masks_or_mixed_precision(UnmaskedMovingBatchNormalization)
    checks.check_training_mode(UnmaskedMovingBatchNormalization)
    with pytest.raises(CheckFailed, match="The moving statistics differ"):
        checks.check_moving_statistics(UnmaskedMovingBatchNormalization)


@pytest.mark.parametrize(
    "cls, message",
    [
        (AutocastWeightsBatchNormalization, "autocast=False"),
        (Float16WeightsBatchNormalization, "does not keep its weights in float32"),
    ],
    ids=["autocast", "float16"],
)
def test_weights_that_break_mixed_precision_fail(cls, message):
    _passes_without_masks_or_mixed_precision(cls)
    checks.check_batchnorm_contract(cls)
    for check in (
        checks.check_training_mode,
        checks.check_moving_statistics,
        checks.check_inference_mode,
    ):
        with pytest.raises(CheckFailed, match=message):
            check(cls)


def test_moving_statistics_rounded_through_float16_are_blamed_on_autocast():
    """The mismatch is a few 1e-4 in a moving statistic, no error: the hint names autocast
    (it named only the update rule, which is right here)."""
    with pytest.raises(CheckFailed, match="autocast=False") as failure:
        checks.check_moving_statistics(AutocastFoldedBatchNormalization)
    assert "The moving statistics differ" in str(failure.value)


def test_a_gamma_read_as_float16_fails_beyond_float16s_range():
    """The old mixed-precision cases (gamma within float16's range) pass a layer whose gamma
    is autocast to float16; the inference case with gamma +-70,000 does not."""
    cls = AutocastGammaBatchNormalization
    _passes_without_large_gamma(cls)
    checks.check_batchnorm_contract(cls)
    checks.check_training_mode(cls)
    checks.check_moving_statistics(cls)
    for hidden in (False, True):
        with pytest.raises(CheckFailed, match="gamma does not fit in a float16"):
            checks.check_inference_mode(cls, hidden=hidden)


def _passes_without_large_gamma(cls):
    """The layer passes the inference-mode checks, mixed-precision cases included, without
    the large-gamma cases."""
    saved = dict(cases.LARGE_GAMMA_CASES)
    try:
        cases.LARGE_GAMMA_CASES.update(public=[], hidden=[])
        checks.check_inference_mode(cls)
        checks.check_inference_mode(cls, hidden=True)
    finally:
        cases.LARGE_GAMMA_CASES.update(saved)


# --- gaps a third review found: partial batches, float64 statistics, blame, backward names ----


class StaticCountBatchNormalization(ReferenceBatchNormalization):
    """Counts a channel's values from the static shape (math.prod of inputs.shape): right on
    every batch it is given, but model.fit traces a smaller last batch with the batch size
    None."""

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        inputs = ops.cast(inputs, "float32")
        axes = tuple(range(len(inputs.shape) - 1))
        count = math.prod(inputs.shape[:-1])
        mean = ops.sum(inputs, axis=axes) / count
        variance = ops.sum(ops.square(inputs - mean), axis=axes) / count
        for variable, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
            variable.assign(variable * self.momentum + value * (1 - self.momentum))
        outputs = (inputs - mean) * ops.rsqrt(variance + self.epsilon)
        outputs = outputs if self.gamma is None else outputs * self.gamma
        outputs = outputs if self.beta is None else outputs + self.beta
        return ops.cast(outputs, self.compute_dtype)


def test_a_count_from_the_static_shape_fails_as_model_fit_would():
    checks.check_training_mode(StaticCountBatchNormalization)
    with pytest.raises(CheckFailed, match="with training=True raised") as failure:
        checks.check_batchnorm_contract(StaticCountBatchNormalization)
    text = str(failure.value)
    assert "batch size None" in text and "last batch smaller" in text
    assert "runs when called directly" in text


def test_a_layer_that_fails_in_training_mode_anyway_is_left_to_the_output_checks():
    class BatchNormalization(ReferenceBatchNormalization):
        def call(self, inputs, training=None, mask=None):
            if training:
                raise ValueError("no training mode here")
            return super().call(inputs, training=training, mask=mask)

    checks.check_batchnorm_contract(BatchNormalization)
    with pytest.raises(CheckFailed, match="no training mode here") as failure:
        checks.check_training_mode(BatchNormalization)
    assert "batch size None" not in str(failure.value)


def statistics_float64_tf(x):
    """Right values, computed in float64 with tf and returned so."""
    x64 = tf.cast(x, tf.float64)
    axes = list(range(len(x64.shape) - 1))
    return tf.reduce_mean(x64, axis=axes), tf.math.reduce_variance(x64, axis=axes)


class Float64StatisticsBatchNormalization(ReferenceBatchNormalization):
    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        mean, variance = statistics_float64_tf(inputs)
        keep = self.momentum
        self.moving_mean.assign(self.moving_mean * keep + mean * (1.0 - keep))
        self.moving_variance.assign(self.moving_variance * keep + variance * (1.0 - keep))
        return (inputs - mean) / tf.sqrt(variance + self.epsilon)


def test_statistics_returned_in_float64_fail_their_own_check_and_are_named_in_the_layer():
    with pytest.raises(CheckFailed, match="another dtype than its input") as failure:
        checks.check_batch_statistics(statistics_float64_tf)
    assert "ops.cast(mean, x.dtype)" in str(failure.value)
    assert "mean is float64" in str(failure.value)
    with pytest.raises(CheckFailed, match="training=True raised") as failure:
        checks.check_training_mode(Float64StatisticsBatchNormalization)
    assert "a float64 tensor met a float32 one: batch_statistics" in str(failure.value)


class InferenceEpsilonOutsideBatchNormalization(ReferenceBatchNormalization):
    """Tests `training and self.trainable` right, but divides by sqrt(var) + eps in inference
    mode."""

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable:
            return super().call(inputs, training=True, mask=mask)
        inputs = ops.cast(inputs, "float32")
        spread = ops.sqrt(self.moving_variance) + self.epsilon
        outputs = (inputs - self.moving_mean) / spread
        outputs = outputs if self.gamma is None else outputs * self.gamma
        outputs = outputs if self.beta is None else outputs + self.beta
        return ops.cast(outputs, self.compute_dtype)


class TrainableIgnoredBatchNormalization(ReferenceBatchNormalization):
    def call(self, inputs, training=None, mask=None):
        frozen, self.trainable = self.trainable, True
        try:
            return super().call(inputs, training=training, mask=mask)
        finally:
            self.trainable = frozen


def test_a_wrong_inference_output_is_not_blamed_on_the_mode_of_a_frozen_layer():
    with pytest.raises(CheckFailed) as failure:
        checks.check_trainable_false(InferenceEpsilonOutsideBatchNormalization)
    assert "runs in inference mode, but its inference-mode output" in failure.value.headline
    assert "training and self.trainable" not in str(failure.value)
    with pytest.raises(CheckFailed, match="does not run in inference mode") as failure:
        checks.check_trainable_false(TrainableIgnoredBatchNormalization)
    assert "training and self.trainable" in str(failure.value)


class HardcodedEpsilonBatchNormalization(ReferenceBatchNormalization):
    """Normalizes with epsilon=1e-3 whatever the constructor says: its training-mode output is
    wrong, and the gradient follows it (no stop_gradient to blame)."""

    def call(self, inputs, training=None, mask=None):
        given, self.epsilon = self.epsilon, 1e-3
        try:
            return super().call(inputs, training=training, mask=mask)
        finally:
            self.epsilon = given


def test_a_replaced_variable_is_named_and_a_wrong_output_blamed_before_its_gradient():
    from solutions.mistakes import materialize, wrong_versions

    version = next(v for v in wrong_versions("07_batchnorm") if v.mistake == "variable_replaced")
    replaced = materialize(version, "solutions.batchnorm")["BatchNormalization"]
    for check in (checks.check_moving_statistics, checks.check_batchnorm_trains):
        with pytest.raises(CheckFailed, match="replaces its variable self.moving_mean by a"):
            check(replaced)
    with pytest.raises(CheckFailed, match="The gradient through") as failure:
        checks.check_batchnorm_trains(HardcodedEpsilonBatchNormalization)
    assert "make check_training_mode pass first" in failure.value.hint


def backward_unbiased_staged(x, gamma, grad_output, epsilon=1e-3):
    """cs231n's staged derivation, every step right, for a variance divided by m - 1."""
    x, g = np.asarray(x, np.float64), np.asarray(grad_output, np.float64)
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    centred = x - x.mean(axis=axes)
    std = np.sqrt((centred**2).sum(axis=axes) / (m - 1) + epsilon)
    x_hat = centred / std
    dx_hat = g * gamma
    dvar = (dx_hat * centred).sum(axis=axes) * -0.5 * std**-3
    dmean = -dx_hat.sum(axis=axes) / std
    grad_x = dx_hat / std + dvar * 2.0 * centred / (m - 1) + dmean / m
    return grad_x, (g * x_hat).sum(axis=axes), g.sum(axis=axes)


def backward_epsilon_outside_ops(x, gamma, grad_output, epsilon=1e-3):
    """keras.ops, the compact formula, with sqrt(var) + eps for the spread."""
    x, g = ops.convert_to_tensor(x, "float64"), ops.convert_to_tensor(grad_output, "float64")
    axes = tuple(range(len(x.shape) - 1))
    mean, variance = ops.moments(x, axes)
    spread = ops.sqrt(variance) + epsilon
    x_hat = (x - mean) / spread
    h = g * ops.convert_to_tensor(gamma, "float64")
    grad_x = (h - ops.mean(h, axis=axes) - x_hat * ops.mean(h * x_hat, axis=axes)) / spread
    return grad_x, ops.sum(g * x_hat, axis=axes), ops.sum(g, axis=axes)


@pytest.mark.parametrize(
    ("fn", "mistake"),
    [
        (backward_unbiased_staged, "unbiased (n - 1) variance"),
        (backward_epsilon_outside_ops, "epsilon outside the square root"),
    ],
)
def test_the_layer_s_mistakes_are_named_in_the_backward_pass(fn, mistake):
    for hidden in (False, True):
        with pytest.raises(CheckFailed, match="gives the wrong grad_x") as failure:
            checks.check_batchnorm_backward(fn, hidden=hidden)
        assert f"Likely mistake: {mistake}." in str(failure.value)


# --- gaps a fourth review found: beta's constraint, masks in inference, the mode's test --------


class BetaWithGammaConstraintBatchNormalization(ReferenceBatchNormalization):
    """Creates beta with gamma_constraint (a copy-paste slip): with both constraints alike, as in
    the case of every initializer, regularizer and constraint, nothing shows."""

    def build(self, input_shape):
        given, self.beta_constraint = self.beta_constraint, self.gamma_constraint
        try:
            super().build(input_shape)
        finally:
            self.beta_constraint = given


class MaskedInferenceBatchNormalization(ReferenceBatchNormalization):
    """With a mask, normalizes with masked_statistics in inference mode too (nothing updated)."""

    def call(self, inputs, training=None, mask=None):
        if mask is None or (training and self.trainable):
            return super().call(inputs, training=training, mask=mask)
        from solutions.batchnorm import masked_statistics

        inputs = ops.cast(inputs, "float32")
        mean, variance = masked_statistics(inputs, mask)
        outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        outputs = outputs if self.gamma is None else outputs * self.gamma
        outputs = outputs if self.beta is None else outputs + self.beta
        return ops.cast(outputs, self.compute_dtype)


class TrainableWeightsFlagBatchNormalization(ReferenceBatchNormalization):
    """Tests `training and self.trainable_weights`: with center=False and scale=False there is
    none, and training=True runs inference mode."""

    def call(self, inputs, training=None, mask=None):
        mode = bool(training) and bool(self.trainable_weights)
        return super().call(inputs, training=mode, mask=mask)


for _cls in (
    BetaWithGammaConstraintBatchNormalization,
    MaskedInferenceBatchNormalization,
    TrainableWeightsFlagBatchNormalization,
):
    _cls.__name__ = "BatchNormalization"


def test_beta_created_with_gamma_constraint_fails_the_contract():
    contract_steps = lessons.module("07_batchnorm", "contract_steps")
    contract_steps.check_weight_arguments(BetaWithGammaConstraintBatchNormalization)  # blind
    with pytest.raises(CheckFailed) as failure:
        checks.check_batchnorm_contract(BetaWithGammaConstraintBatchNormalization)
    assert failure.value.headline == (
        "BatchNormalization does not give each weight its own constraint."
    )
    assert failure.value.details[1:] == [
        "beta_constraint is ignored: beta has gamma_constraint's MaxNorm instead of NonNeg"
    ]
    assert "constraint=self.beta_constraint" in failure.value.hint


def test_batch_statistics_with_a_mask_in_inference_mode_fail():
    saved = dict(cases.MASKED_INFERENCE_CASES)
    try:
        cases.MASKED_INFERENCE_CASES.update(public=[], hidden=[])
        for hidden in (False, True):  # without the masked cases nothing shows
            checks.check_inference_mode(MaskedInferenceBatchNormalization, hidden=hidden)
    finally:
        cases.MASKED_INFERENCE_CASES.update(saved)
    for check in (checks.check_batchnorm_contract, checks.check_training_mode):
        check(MaskedInferenceBatchNormalization)
    checks.check_moving_statistics(MaskedInferenceBatchNormalization)
    for hidden in (False, True):
        with pytest.raises(CheckFailed) as failure:
            checks.check_inference_mode(MaskedInferenceBatchNormalization, hidden=hidden)
        text = str(failure.value)
        assert failure.value.headline.startswith("In inference mode BatchNormalization does not")
        assert "2 calls with training=False on batches" in text and "with a mask keeping" in text
        assert "a mask or not: the mask only chooses which values make the batch statistics" in (
            " ".join(text.split())
        )
        assert "Likely mistake" not in text


def test_a_training_mode_that_gives_the_inference_output_is_told_so():
    checks.check_training_mode(TrainableWeightsFlagBatchNormalization)
    with pytest.raises(CheckFailed) as failure:
        checks.check_training_mode(TrainableWeightsFlagBatchNormalization, hidden=True)
    text = " ".join(str(failure.value).split())
    assert "BatchNormalization(center=False, scale=False)" in text
    assert "your layer gave Keras's inference-mode output" in text
    assert "(self.trainable_weights is empty) and is still trainable" in text
    assert "with the mean and variance of each channel over this batch" not in text
    # A wrong formula keeps the formula's hint.
    with pytest.raises(CheckFailed) as failure:
        checks.check_training_mode(HardcodedEpsilonBatchNormalization)
    text = " ".join(str(failure.value).split())
    assert "with the mean and variance of each channel over this batch" in text
    assert "inference-mode output" not in text
