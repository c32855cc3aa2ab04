"""The reference Dense is a drop-in for keras.layers.Dense, and the lesson's experiment holds."""

import keras
import numpy as np
import pytest

from course import data
from solutions.mlp_limits import (
    Dense,
    accuracy_by_shift,
    conv1d_matrix,
    conv2d_params,
    dense_params,
    make_cnn,
    make_mlp,
    mlp_params,
)


def test_dense_matches_keras_in_a_model():
    x = np.random.default_rng(0).normal(size=(3, 5, 7)).astype("float32")
    ours = keras.Sequential([keras.Input((5, 7)), Dense(4, activation="relu"), Dense(2)])
    theirs = keras.Sequential(
        [keras.Input((5, 7)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]
    )
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5, rtol=1e-5)
    assert ours.count_params() == theirs.count_params()


def test_model_with_the_layer_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((6,)), Dense(3, activation="tanh")])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"Dense": Dense})
    x = np.ones((2, 6), "float32")
    np.testing.assert_allclose(model(x), loaded(x))


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True])
def test_bad_units_are_refused_by_name(units):
    with pytest.raises(ValueError, match="units.*Received"):
        Dense(units)


def test_bad_padding_is_refused_by_name():
    with pytest.raises(ValueError, match="padding.*Received"):
        conv1d_matrix([1, 2, 3], 5, padding="full")


def test_counts_agree_with_the_models_of_the_experiment():
    assert make_mlp().count_params() == mlp_params((28, 28), [64, 4])
    cnn = make_cnn()
    convs = conv2d_params(3, 1, 8) + conv2d_params(3, 8, 16)
    assert cnn.count_params() == convs + dense_params(16, 4)


def test_the_lectures_matrix():
    expected = [[2, 3, 0, 0, 0], [1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3], [0, 0, 0, 1, 2]]
    assert conv1d_matrix([1, 2, 3], 5, padding="same").tolist() == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_shifted_objects_defeat_the_mlp_but_not_the_cnn(seed):
    """The notebook's experiment: train on centred shapes, test on shapes moved to the right."""
    x_train, y_train = data.shapes(2000, noise=0.0, seed=1)
    keras.utils.set_random_seed(seed)
    accuracy = {}
    mlp, cnn = make_mlp(), make_cnn()
    kernel_before = np.array(mlp.layers[1].kernel)
    for model in (mlp, cnn):
        model.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(x_train, y_train, epochs=6, batch_size=64, verbose=0)
        accuracy[model.name] = accuracy_by_shift(model, [0, 4, 8])
    centred, *moved = accuracy["mlp"]
    assert centred > 0.95 and moved[0] < 0.5 and moved[1] < 0.7, accuracy
    assert min(accuracy["cnn"]) > 0.9, accuracy
    # The notebook's explanation: weights of pixels that are 0 in every training image never move.
    change = np.abs(np.array(mlp.layers[1].kernel) - kernel_before).max(axis=1)
    never_lit = x_train.max(axis=0).reshape(-1) == 0
    assert never_lit.sum() > 300 and (change[never_lit] == 0).all()
    assert (change[~never_lit] > 0).all()
