"""Operations on layers and small models (autograder/harness/ops/layers.py)."""

import keras
import numpy as np

from autograder.harness.ops.layers import fit, history_summary, traced_output_shape


class ShapeByMode(keras.layers.Layer):
    """Its output shows how it was called: one column per call argument it received."""

    def call(self, inputs, training=None):
        columns = {None: 1, False: 2, True: 3}[training]
        return keras.ops.zeros((keras.ops.shape(inputs)[0], columns))


def test_traced_output_shape_passes_training_only_when_given():
    assert traced_output_shape(ShapeByMode, (None, 4)) == (None, 1)
    assert traced_output_shape(ShapeByMode, (None, 4), training=False) == (None, 2)
    assert traced_output_shape(ShapeByMode, (None, 4), training=True) == (None, 3)


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


def test_history_summary_names_what_was_returned_and_what_a_history_recorded():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
    assert history_summary(history) == {"type": "History", "recorded": ["loss", "mae"]}
    assert history_summary(history.history)["recorded"] is None
    assert history_summary(None) == {"type": "NoneType", "recorded": None}
