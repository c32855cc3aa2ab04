"""The reference backward passes agree with TensorFlow, and the Conv2D works as a library layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from solutions.backprop import (
    Conv2D,
    conv2d_backward,
    conv2d_forward,
    max_pool_backward,
    numerical_gradient,
)
from solutions.layers import BackpropConv2D


def test_the_library_exports_the_layer():
    assert BackpropConv2D is Conv2D


def test_numerical_gradient_of_a_known_function_leaves_x_alone():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    before = x.copy()
    gradient = numerical_gradient(lambda v: float(np.sum(np.exp(v))), x)
    np.testing.assert_allclose(gradient, np.exp(x), rtol=1e-8)
    np.testing.assert_array_equal(x, before)
    assert gradient.dtype == np.float64 and gradient.shape == x.shape


def test_conv2d_forward_is_keras_s_convolution():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 6, 3)).astype("float32")
    kernel = rng.normal(size=(3, 2, 3, 4)).astype("float32")
    expected = keras.ops.conv(x, kernel)
    np.testing.assert_allclose(conv2d_forward(x, kernel), expected, atol=1e-5)


def test_conv2d_backward_accepts_numpy_and_keeps_float64():
    rng = np.random.default_rng(1)
    x, kernel = rng.normal(size=(2, 5, 4, 2)), rng.normal(size=(2, 2, 2, 3))
    g = rng.normal(size=(2, 4, 3, 3))
    grads = conv2d_backward(x, kernel, g)
    assert [tuple(v.shape) for v in grads] == [(2, 5, 4, 2), (2, 2, 2, 3), (3,)]
    assert all(keras.ops.convert_to_numpy(v).dtype == np.float64 for v in grads)


def test_max_pool_backward_takes_pairs_and_leaves_uncovered_cells_at_zero():
    x = np.arange(2 * 5 * 7 * 1, dtype="float32").reshape(2, 5, 7, 1)
    g = np.ones((2, 2, 3, 1), "float32") * 2
    out = max_pool_backward(x, g, (2, 2))
    assert out.shape == x.shape
    assert out[:, 4].sum() == 0 and out[:, :, 6].sum() == 0
    assert out.sum() == g.sum()
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(keras.layers.MaxPooling2D((2, 2))(xt) * g)
    np.testing.assert_array_equal(out, tape.gradient(loss, xt))


def _model(conv):
    return keras.Sequential(
        [
            keras.Input((9, 8, 2)),
            conv,
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )


def test_a_model_with_the_layer_trains_like_keras_s():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 9, 8, 2)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    ours = _model(Conv2D(3, (3, 2), activation="tanh"))
    theirs = _model(keras.layers.Conv2D(3, (3, 2), activation="tanh"))
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-3)


def test_model_with_the_layer_saves_and_loads(tmp_path):
    model = _model(Conv2D(3, 2, use_bias=False, activation="relu"))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"Conv2D": Conv2D})
    x = np.random.default_rng(3).normal(size=(2, 9, 8, 2)).astype("float32")
    np.testing.assert_allclose(model(x), loaded(x), rtol=1e-6)
    assert not loaded.layers[0].use_bias


@pytest.mark.parametrize(
    "kwargs, word",
    [({"padding": "same"}, "padding"), ({"strides": 2}, "strides"), ({"filters": 0}, "filters")],
)
def test_unsupported_arguments_are_refused_by_name(kwargs, word):
    with pytest.raises(ValueError, match=f"{word}.*Received"):
        Conv2D(**{"filters": 2, "kernel_size": 3, **kwargs})
