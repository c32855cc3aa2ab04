"""The reference RandomFlip is a drop-in for Keras's layer; the workflow functions work."""

import keras
import numpy as np
import pytest

from course import pretrained
from solutions.layers import RandomFlip
from solutions.transfer_learning import (
    TransferModel,
    fine_tune,
    freeze,
    train_head,
    unfreeze_from,
)


def test_random_flip_in_a_model_saves_loads_and_passes_through_at_inference(tmp_path):
    model = keras.Sequential([keras.Input((6, 5, 2)), RandomFlip("vertical", seed=3)])
    path = tmp_path / "flip.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"RandomFlip": RandomFlip})
    assert loaded.layers[0].mode == "vertical" and loaded.layers[0].seed == 3
    x = np.random.default_rng(0).normal(size=(8, 6, 5, 2)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x)


def test_random_flip_trains_in_a_compiled_model_where_the_batch_size_is_unknown():
    x = np.random.default_rng(1).normal(size=(32, 4, 4, 1)).astype("float32")
    flip = RandomFlip("horizontal", seed=0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), flip, keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    model.fit(x, np.zeros(32), batch_size=12, epochs=1, verbose=0)
    changed = np.any(np.asarray(flip(x, training=True)) != x, axis=(1, 2, 3))
    assert 0 < changed.sum() < 32


@pytest.mark.parametrize(
    "kwargs, word",
    [({"mode": "diagonal"}, "mode"), ({"data_format": "channels_first"}, "data_format")],
)
def test_unsupported_arguments_are_refused_by_name(kwargs, word):
    with pytest.raises(ValueError, match=f"{word}.*Received"):
        RandomFlip(**kwargs)


def test_unfreeze_from_refuses_unknown_layers():
    with pytest.raises(ValueError, match="block9_conv"):
        unfreeze_from(pretrained.load_base(), "block9_conv")


def test_the_workflow_end_to_end():
    x, y = pretrained.target_data(60, seed=5)
    base = freeze(pretrained.load_base())
    flips = RandomFlip("horizontal")
    model = TransferModel(base, len(pretrained.TARGET_CLASSES), augmentation=flips)
    train_head(model, x, y, epochs=3)
    head = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert head == pretrained.WIDTHS[-1] * 10 + 10
    statistics = [np.asarray(w) for w in base.non_trainable_weights if "moving" in w.path]
    unfreeze_from(base, "block3_conv")
    fine_tune(model, x, y, epochs=2)
    after = [np.asarray(w) for w in base.non_trainable_weights if "moving" in w.path]
    for a, b in zip(statistics, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-4)
