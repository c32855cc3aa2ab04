"""Lesson 07's reference BatchNormalization is a drop-in for Keras's and works as a library."""

import keras
import numpy as np
import pytest

from solutions.batchnorm import BatchNormalization, batch_statistics, batchnorm_backward
from solutions.layers import BatchNormalization as Exported


def _model(norm):
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False),
            norm,
            keras.layers.Activation("relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def test_the_layer_is_exported_by_the_library():
    assert Exported is BatchNormalization


def test_weights_load_both_ways_between_keras_and_the_reference():
    ours = _model(BatchNormalization(momentum=0.9))
    theirs = _model(keras.layers.BatchNormalization(momentum=0.9))
    rng = np.random.default_rng(0)
    theirs.set_weights([w + rng.uniform(0.1, 0.5, w.shape) for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    x = rng.normal(size=(5, 8, 8, 2)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()


def test_a_model_trains_like_the_keras_model():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 8, 8, 2)).astype("float32")
    y = rng.integers(3, size=32)
    models = [_model(BatchNormalization()), _model(keras.layers.BatchNormalization())]
    models[1].set_weights(models[0].get_weights())
    for model in models:
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for ours, theirs in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=1e-3)


def test_model_with_the_layer_saves_and_loads(tmp_path):
    model = _model(BatchNormalization(momentum=0.9, epsilon=0.01, center=False))
    x = np.random.default_rng(2).normal(size=(4, 8, 8, 2)).astype("float32")
    model(x, training=True)  # moves the moving statistics away from 0 and 1
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(
        path, custom_objects={"BatchNormalization": BatchNormalization}
    )
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    layer = loaded.layers[1]
    assert (layer.momentum, layer.epsilon, layer.center) == (0.9, 0.01, False)


def test_a_frozen_layer_keeps_its_statistics_inside_fit():
    norm = BatchNormalization()
    model = _model(norm)
    norm.trainable = False
    before = [np.array(w) for w in norm.weights]
    x = np.random.default_rng(3).normal(size=(16, 8, 8, 2)).astype("float32")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, np.zeros(16, "int64"), epochs=1, batch_size=8, verbose=0)
    for old, new in zip(before, norm.weights, strict=True):
        np.testing.assert_array_equal(old, np.array(new))
    assert norm.trainable_weights == []


@pytest.mark.parametrize(
    "kwargs, word",
    [({"axis": 1}, "axis"), ({"momentum": 1.5}, "momentum"), ({"epsilon": 0.0}, "epsilon")],
)
def test_unsupported_arguments_are_refused_by_name(kwargs, word):
    with pytest.raises(ValueError, match=f"{word}.*Received"):
        BatchNormalization(**kwargs)


def test_the_helpers_accept_numpy():
    x = np.array([[2.0, 1], [4, 1], [4, 1], [4, 1], [5, 3], [5, 3], [7, 3], [9, 3]], "float32")
    mean, variance = batch_statistics(x)
    np.testing.assert_allclose(mean, [5, 2])
    np.testing.assert_allclose(variance, [4, 1])
    grad_x, grad_gamma, grad_beta = batchnorm_backward(x, np.ones(2), np.ones_like(x))
    np.testing.assert_allclose(grad_x, 0, atol=1e-12)
    np.testing.assert_allclose(grad_gamma, 0, atol=1e-12)
    np.testing.assert_allclose(grad_beta, [8, 8])
