"""The reference dropout layers are drop-ins for Keras's and work as a library."""

import keras
import numpy as np
import pytest

from solutions.dropout import Dropout, SpatialDropout2D, mask_shape
from solutions.layers import Dropout as LibraryDropout
from solutions.layers import SpatialDropout2D as LibrarySpatialDropout2D

X = np.random.default_rng(0).uniform(0.5, 2.0, size=(4, 6, 6, 8)).astype("float32")


def test_the_library_exports_the_layers():
    assert LibraryDropout is Dropout and LibrarySpatialDropout2D is SpatialDropout2D


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: Dropout(0.3, seed=5), lambda: keras.layers.Dropout(0.3, seed=5)),
        (
            lambda: Dropout(0.6, noise_shape=(None, 1, 1, None), seed=2),
            lambda: keras.layers.Dropout(0.6, noise_shape=(None, 1, 1, None), seed=2),
        ),
        (lambda: SpatialDropout2D(0.3, seed=5), lambda: keras.layers.SpatialDropout2D(0.3, seed=5)),
    ],
    ids=["dropout", "noise_shape", "spatial"],
)
def test_the_same_seed_draws_keras_s_masks(ours, theirs):
    """Not asked of students, but true of the reference: with the same seed it drops exactly
    the values Keras drops, call after call (the scaling may differ in the last bit)."""
    mine, keras_layer = ours(), theirs()
    for _ in range(3):
        a = np.asarray(mine(X, training=True))
        b = np.asarray(keras_layer(X, training=True))
        np.testing.assert_array_equal(a != 0, b != 0)
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_inference_is_the_identity_in_a_model():
    model = keras.Sequential([keras.Input((6, 6, 8)), SpatialDropout2D(0.5), Dropout(0.5)])
    np.testing.assert_array_equal(model(X), X)
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    assert (np.asarray(model(X, training=True)) == 0).any()


def test_rates_zero_and_one():
    np.testing.assert_array_equal(Dropout(0.0)(X, training=True), X)
    np.testing.assert_array_equal(Dropout(1.0)(X, training=True), np.zeros_like(X))
    np.testing.assert_array_equal(SpatialDropout2D(1.0)(X, training=True), np.zeros_like(X))


def test_a_model_with_the_layers_trains_saves_and_loads(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((6, 6, 8)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            SpatialDropout2D(0.2, seed=1),
            keras.layers.Flatten(),
            Dropout(0.5, noise_shape=(None, 1), seed=2),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, np.ones((4, 1)), epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = tmp_path / "model.keras"
    model.save(path)
    custom = {"Dropout": Dropout, "SpatialDropout2D": SpatialDropout2D}
    loaded = keras.models.load_model(path, custom_objects=custom)
    np.testing.assert_allclose(model.predict(X, verbose=0), loaded.predict(X, verbose=0))
    assert loaded.layers[1].rate == 0.2 and loaded.layers[3].noise_shape == (None, 1)


def test_configs_round_trip_like_keras():
    layer = Dropout(0.25, noise_shape=[None, 1, 3], seed=9)
    config = layer.get_config()
    assert config["noise_shape"] == (None, 1, 3)
    assert Dropout.from_config(config).get_config() == config
    spatial = SpatialDropout2D(0.4, data_format="channels_first", seed=1)
    config = spatial.get_config()
    assert "noise_shape" not in config and config["data_format"] == "channels_first"
    assert SpatialDropout2D.from_config(config).get_config() == config
    keras_config = keras.layers.SpatialDropout2D(0.4, data_format="channels_first").get_config()
    assert {k: keras_config[k] for k in ("rate", "data_format")} == {
        "rate": 0.4,
        "data_format": "channels_first",
    }


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_invalid_rates_are_refused_like_keras(rate):
    for cls in (Dropout, SpatialDropout2D, keras.layers.Dropout):
        with pytest.raises(ValueError, match=f"rate.*Received: rate={rate}"):
            cls(rate)


def test_an_unknown_data_format_is_refused():
    with pytest.raises(ValueError, match="data_format.*Received"):
        SpatialDropout2D(0.5, data_format="channels_middle")


def test_channels_first_drops_whole_maps():
    x = np.moveaxis(X, -1, 1)  # (4, 8, 6, 6)
    out = np.asarray(SpatialDropout2D(0.5, data_format="channels_first", seed=3)(x, training=True))
    kept = out != 0
    assert (kept == kept.any(axis=(2, 3), keepdims=True)).all()


def test_mask_shape_fills_in_the_input_sizes():
    assert mask_shape((4, 5, 6), None) == (4, 5, 6)
    assert mask_shape((4, 5, 6), (None, 1, None)) == (4, 1, 6)
    assert mask_shape((2, 3), (1, 3)) == (1, 3)
