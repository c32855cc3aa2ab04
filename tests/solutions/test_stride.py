"""Lesson 04's reference Conv2D is a drop-in for keras.layers.Conv2D and works as a library."""

import keras
import numpy as np
import pytest

from solutions.stride import Conv2D, conv_output_size, layer_geometry, receptive_field


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strides": 2, "padding": "same"},
        {"strides": (3, 2), "padding": "valid"},
        {"dilation_rate": (2, 3), "padding": "same"},
        {"dilation_rate": 2, "padding": "valid"},
    ],
)
def test_conv2d_matches_keras_in_a_model(kwargs):
    x = np.random.default_rng(0).normal(size=(2, 12, 11, 3)).astype("float32")
    ours = keras.Sequential([keras.Input((12, 11, 3)), Conv2D(5, (4, 3), **kwargs)])
    theirs = keras.Sequential([keras.Input((12, 11, 3)), keras.layers.Conv2D(5, (4, 3), **kwargs)])
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5, rtol=1e-5)
    assert ours.output_shape == theirs.output_shape


def test_model_with_the_layer_saves_loads_and_trains(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            Conv2D(2, 3, strides=2, padding="same", activation="relu"),
            Conv2D(2, 3, dilation_rate=2, padding="full"),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(16, 8, 8, 1)).astype("float32")
    model.fit(x, np.ones((16, 1)), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"Conv2D": Conv2D})
    np.testing.assert_allclose(model(x), loaded(x), atol=1e-6)
    assert model.layers[1].output.shape == (None, 8, 8, 2)


def test_strides_and_dilation_together_are_refused_as_in_keras():
    with pytest.raises(ValueError, match="strides.*dilation_rate"):
        Conv2D(2, 3, strides=2, dilation_rate=2)


def test_full_padding_with_strides_keeps_every_window_that_touches_the_input():
    x = np.ones((1, 7, 7, 1), "float32")
    layer = Conv2D(1, 3, strides=2, padding="full", use_bias=False, kernel_initializer="ones")
    out = np.asarray(layer(x))[0, :, :, 0]
    assert out.shape == (conv_output_size(7, 3, 2, "full"),) * 2 == (5, 5)
    assert out[0, 0] == 1 and out[2, 2] == 9


def test_receptive_field_of_a_keras_model():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(8, 7, strides=2, padding="same"),
            keras.layers.MaxPooling2D(3, strides=2),
            Conv2D(8, 3, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    assert layer_geometry(model) == [(7, 2, 1), (3, 2, 1), (3, 1, 1)]
    assert receptive_field(layer_geometry(model)) == 1 + 6 + 2 * 2 + 2 * 4
