"""The reference layer is a drop-in for keras.layers.Conv2D and works as a library."""

import keras
import numpy as np
import pytest

from solutions import convolution
from solutions.convolution import cross_correlate2d
from solutions.layers import Conv2D


def test_library_import_matches_keras_in_a_model():
    x = np.random.default_rng(0).normal(size=(2, 10, 9, 3)).astype("float32")
    ours = keras.Sequential([keras.Input((10, 9, 3)), Conv2D(5, (3, 2), activation="relu")])
    theirs = keras.Sequential(
        [keras.Input((10, 9, 3)), keras.layers.Conv2D(5, (3, 2), activation="relu")]
    )
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5, rtol=1e-5)


def test_model_with_the_layer_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((6, 6, 1)), Conv2D(2, 3)])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"Conv2D": Conv2D})
    x = np.ones((1, 6, 6, 1), "float32")
    np.testing.assert_allclose(model(x), loaded(x))


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"padding": "same"}, "padding"),
        ({"strides": 2}, "strides"),
        ({"dilation_rate": 2}, "dilation_rate"),
        ({"data_format": "channels_first"}, "data_format"),
    ],
)
def test_lesson_02_refuses_what_it_does_not_support_by_name(kwargs, word):
    with pytest.raises(ValueError, match=f"{word}.*Received"):
        convolution.Conv2D(2, 3, **kwargs)


def test_bad_kernel_size_is_refused():
    for size in ((3, 0), 0):
        with pytest.raises(ValueError, match="kernel_size"):
            convolution.Conv2D(2, size)


def test_cross_correlate2d_accepts_lists():
    assert cross_correlate2d([[1, 2], [3, 4]], [[1]]).tolist() == [[1, 2], [3, 4]]
