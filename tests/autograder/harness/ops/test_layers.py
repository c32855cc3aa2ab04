"""Operations on layers and small models (autograder/harness/ops/layers.py)."""

import keras
import numpy as np

from autograder.harness.ops.layers import fit


def test_fit_passes_callbacks_on_and_trains_as_without_them():
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    spec = [("keras", "Dense", (1,), {})]
    batches = []

    def keep(batch, logs=None):
        batches.append(batch)

    record = keras.callbacks.LambdaCallback(on_train_batch_end=keep)
    settings = {"epochs": 2, "batch_size": 4, "shuffle": False}
    plain = fit(spec, (None, 3), x, y, "mse", **settings)
    seen = fit(spec, (None, 3), x, y, "mse", **settings, callbacks=[record])
    assert batches == [0, 1, 0, 1]
    assert seen["loss"] == plain["loss"]
    for ours, theirs in zip(seen["weights"], plain["weights"], strict=True):
        np.testing.assert_array_equal(ours, theirs)
