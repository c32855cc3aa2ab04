"""The reference pooling layers are drop-ins for Keras's and work as a library."""

import keras
import numpy as np
import pytest

from solutions.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    MaxPooling2D,
    pool_output_size,
    pool_windows,
)


def _model(pool, average, global_average):
    return keras.Sequential(
        [
            keras.Input((11, 10, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            pool,
            average,
            global_average,
            keras.layers.Dense(2),
        ]
    )


def test_a_model_with_the_layers_matches_the_keras_model():
    x = np.random.default_rng(0).normal(size=(2, 11, 10, 3)).astype("float32")
    ours = _model(MaxPooling2D(2, padding="same"), AveragePooling2D(2, 1), GlobalAveragePooling2D())
    theirs = _model(
        keras.layers.MaxPooling2D(2, padding="same"),
        keras.layers.AveragePooling2D(2, 1),
        keras.layers.GlobalAveragePooling2D(),
    )
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5, rtol=1e-5)
    assert ours.count_params() == theirs.count_params()


def test_model_with_the_layers_saves_and_loads(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            MaxPooling2D(3, strides=2, padding="same"),
            AveragePooling2D((2, 1)),
            GlobalAveragePooling2D(keepdims=True),
        ]
    )
    path = tmp_path / "model.keras"
    model.save(path)
    custom = {
        "MaxPooling2D": MaxPooling2D,
        "AveragePooling2D": AveragePooling2D,
        "GlobalAveragePooling2D": GlobalAveragePooling2D,
    }
    loaded = keras.models.load_model(path, custom_objects=custom)
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 2)).astype("float32")
    np.testing.assert_allclose(model(x), loaded(x))
    assert loaded.layers[0].strides == (2, 2) and loaded.layers[2].keepdims


def test_strides_default_to_the_pool_size():
    assert MaxPooling2D().strides == (2, 2)
    assert AveragePooling2D((3, 2)).strides == (3, 2)
    assert MaxPooling2D(3, strides=1).strides == (1, 1)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"padding": "full"}, "padding"),
        ({"data_format": "channels_first"}, "data_format"),
        ({"strides": 0}, "strides"),
        ({"pool_size": (2, 0)}, "pool_size"),
    ],
)
def test_unsupported_arguments_are_refused_by_name(kwargs, word):
    kwargs = {"pool_size": 2, **kwargs}
    for cls in (MaxPooling2D, AveragePooling2D):
        with pytest.raises(ValueError, match=f"{word}.*Received"):
            cls(**kwargs)
    if word == "data_format":
        with pytest.raises(ValueError, match="data_format.*Received"):
            GlobalAveragePooling2D(data_format="channels_first")


def test_padding_is_case_insensitive_like_tensorflow():
    assert MaxPooling2D(2, padding="SAME").padding == "same"


def test_helpers_accept_numpy_and_lists():
    assert pool_output_size(7, 2, 2, "valid") == 3 and pool_output_size(7, 2, 2, "same") == 4
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    windows = np.asarray(pool_windows(x, (2, 2), (2, 2)))
    assert windows.shape == (1, 2, 2, 4, 1)
    assert windows[0, 0, 0, :, 0].tolist() == [0, 1, 4, 5]


def test_same_padding_puts_the_extra_cell_last():
    x = np.ones((1, 3, 3, 1), "float32")
    windows = np.asarray(pool_windows(x, (2, 2), (2, 2), "same", pad_value=-1.0))
    assert windows[0, 0, 0, :, 0].tolist() == [1, 1, 1, 1]
    assert windows[0, 1, 1, :, 0].tolist() == [1, -1, -1, -1]
