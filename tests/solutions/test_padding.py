"""Lesson 03's reference layers are drop-ins for their Keras namesakes and work as a library."""

import keras
import numpy as np
import pytest

from solutions.padding import Conv2D, ZeroPadding2D, padding_amounts


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_matches_keras_in_a_model(padding):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    ours = keras.Sequential([keras.Input((9, 8, 3)), Conv2D(5, (4, 3), padding=padding)])
    theirs = keras.Sequential(
        [keras.Input((9, 8, 3)), keras.layers.Conv2D(5, (4, 3), padding=padding)]
    )
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5, rtol=1e-5)
    assert ours.output_shape == theirs.output_shape


def test_zero_padding_matches_keras_for_every_form():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 2)).astype("float32")
    for padding in (0, 2, (1, 3), ((1, 2), (3, 0)), (2, (0, 1)), [[1, 0], [0, 2]]):
        np.testing.assert_array_equal(
            ZeroPadding2D(padding)(x), keras.layers.ZeroPadding2D(padding)(x)
        )
        assert (
            ZeroPadding2D(padding).get_config()["padding"]
            == (keras.layers.ZeroPadding2D(padding).get_config()["padding"])
        )


def test_model_with_the_layers_saves_and_loads(tmp_path):
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), ZeroPadding2D((1, 2)), Conv2D(2, 4, padding="full")]
    )
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(
        path, custom_objects={"Conv2D": Conv2D, "ZeroPadding2D": ZeroPadding2D}
    )
    x = np.ones((1, 6, 6, 1), "float32")
    np.testing.assert_allclose(model(x), loaded(x))
    assert model.output_shape == (None, 11, 13, 2)


def test_same_padding_keeps_the_size_for_every_kernel():
    x = np.ones((1, 7, 6, 2), "float32")
    for k in range(1, 7):
        assert Conv2D(3, k, padding="same")(x).shape == (1, 7, 6, 3)
        assert Conv2D(3, k, padding="full")(x).shape == (1, 7 + k - 1, 6 + k - 1, 3)


def test_padding_amounts_table():
    assert [padding_amounts(k, "same") for k in range(1, 6)] == [
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 2),
        (2, 2),
    ]
    assert padding_amounts(3, "full") == (2, 2) and padding_amounts(3) == (0, 0)
    with pytest.raises(ValueError, match="padding"):
        padding_amounts(3, "causal")


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"padding": "causal"}, "padding"),
        ({"strides": 2}, "strides"),
        ({"dilation_rate": 2}, "dilation_rate"),
        ({"data_format": "channels_first"}, "data_format"),
    ],
)
def test_unsupported_arguments_are_refused_by_name(kwargs, word):
    with pytest.raises(ValueError, match=f"{word}.*Received"):
        Conv2D(2, 3, **kwargs)


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), ((1, 2), (3,)), "same", ((1, -1), (0, 0))])
def test_bad_zero_padding_is_refused(padding):
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D(padding)


def test_padding_mode_is_case_insensitive():
    assert Conv2D(2, 3, padding="SAME").get_config()["padding"] == "same"
