"""Gradient checks of a student layer whose output cannot enter the loss; fits that break on
its claimed output shape."""

import keras
import numpy as np
import pytest

from autograder import lessons
from autograder.compare import Tolerance
from autograder.feedback import CheckFailed
from autograder.shape_figure import ShapeMismatch
from autograder.training import check_gradients, fit_losses

FORBIDDEN = lessons.module("08_dropout", "forbidden").DROPOUT  # pooling is allowed
TOL = Tolerance(1e-5, 1e-5)


def inputs():
    return np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")


def test_an_output_of_the_wrong_shape_fails_on_its_shape_with_the_picture_not_the_error():
    target = np.zeros((2, 3, 3, 2), "float32")
    with pytest.raises(CheckFailed) as raised:
        check_gradients(
            keras.layers.AveragePooling2D(1),  # the student's: 6 x 6 maps, not 3 x 3
            keras.layers.AveragePooling2D(2),
            inputs(),
            target,
            TOL,
            "mean squared error of Pool(2) on inputs (2, 6, 6, 2)",
            forbidden=FORBIDDEN,
            name="Pool",
        )
    failure = raised.value
    assert str(failure) == "\n".join(
        [
            "Pool gives an output of the wrong shape: its gradients cannot be found.",
            "  case: mean squared error of Pool(2) on inputs (2, 6, 6, 2)",
            "  output has shape (2, 6, 6, 2); expected (2, 3, 3, 2)",
        ]
    )
    assert isinstance(failure.picture, ShapeMismatch)
    assert failure.picture.shown().sizes == ((6, 6), (3, 3))


def _failure_of(call) -> CheckFailed:
    """What check_gradients raises for a layer computing `call`, against a 2x2 average pool."""
    with pytest.raises(CheckFailed) as raised:
        check_gradients(
            keras.layers.Lambda(call),
            keras.layers.AveragePooling2D(2),
            inputs(),
            np.zeros((2, 3, 3, 2), "float32"),
            TOL,
            "a case",
            forbidden=FORBIDDEN,
            name="Pool",
        )
    return raised.value


def test_a_layer_that_fails_otherwise_keeps_its_own_message():
    def broken(x):
        raise ValueError("no luck")

    failure = _failure_of(broken)
    assert "raised ValueError: no luck" in failure.headline
    assert failure.picture is None


def test_a_stub_is_not_run_a_second_time():
    calls = []

    def stub(x):
        calls.append(x)
        raise NotImplementedError()

    failure = _failure_of(stub)
    assert failure.headline.endswith("is not implemented yet.")
    assert len(calls) == 1


class ShapeClaimingPool(keras.layers.AveragePooling2D):
    """Claims an output half as tall as the one call() returns."""

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = super().compute_output_shape(input_shape)
        return (batch, height // 2, width, channels)


def test_fit_that_breaks_on_a_claimed_output_shape_points_at_compute_output_shape():
    spec = [(ShapeClaimingPool, (2,), {}), ("keras", "Flatten", (), {})]
    spec.append(("keras", "Dense", (1,), {}))
    x = np.random.default_rng(1).normal(size=(8, 8, 8, 1)).astype("float32")
    with pytest.raises(CheckFailed, match="is incompatible with the layer") as raised:
        fit_losses("fit", spec, (None, 8, 8, 1), x, x.mean(axis=(1, 2, 3)), "mse", epochs=1,
                   batch_size=4, forbidden=FORBIDDEN)  # fmt: skip
    assert "compute_output_shape" in raised.value.hint
