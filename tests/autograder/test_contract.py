"""The contract's output-shape step: what a student is told when compute_output_shape fails."""

import keras
import pytest

from autograder.contract import NONE_SIZE, check_output_shape
from autograder.feedback import CheckFailed
from autograder.guard import ForbiddenOps

NOTHING = ForbiddenOps("nothing", (), "every op may be used here")


class Crop(keras.layers.Layer):
    """Crops one row and column; its compute_output_shape is wrong in the way `how` says."""

    def __init__(self, how="right", **kwargs):
        super().__init__(**kwargs)
        self.how = how

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        if self.how == "none_width":  # keeps an unknown height, not an unknown width
            return batch, None if height is None else height - 1, width - 1, channels
        if self.how == "bug":  # indexes an int
            return batch, channels[0], None, channels
        return batch, *(None if n is None else n - 1 for n in (height, width)), channels


def failure(layer, shape):
    with pytest.raises(CheckFailed) as raised:
        check_output_shape(layer, shape, (None, 6, None, 3), forbidden=NOTHING)
    return raised.value


def test_arithmetic_on_an_unknown_size_is_explained():
    found = failure(Crop("none_width"), (None, 7, None, 3))
    assert "raised TypeError" in found.headline
    assert found.hint.startswith(NONE_SIZE)


def test_other_errors_keep_their_own_hint():
    found = failure(Crop("bug"), (None, 7, None, 3))
    assert "raised TypeError" in found.headline
    assert NONE_SIZE not in found.hint


def test_a_right_layer_passes_on_unknown_sizes():
    check_output_shape(Crop(), (None, 7, None, 3), (None, 6, None, 3), forbidden=NOTHING)


class Scale(keras.layers.Layer):
    """Multiplies by a weight per channel; `keeps` a count of positions from its first call."""

    def __init__(self, keeps=False, **kwargs):
        super().__init__(**kwargs)
        self.keeps = keeps

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="normal", name="scale")

    def call(self, inputs):
        positions = inputs.shape[1] * inputs.shape[2]
        if self.keeps:
            self.positions = getattr(self, "positions", positions)
            positions = self.positions
        return inputs * self.scale / positions


def test_a_layer_must_give_on_a_second_size_what_a_new_layer_gives():
    from autograder.contract import RESIZED, Contract

    contract = Contract(
        "Scale", "Layer", (), NOTHING, resized=((), {}, ((2, 4, 4, 3), (1, 5, 3, 3))), passed=None
    )
    contract._check_resized(Scale, *contract.resized)
    with pytest.raises(CheckFailed) as raised:
        contract._check_resized(lambda: Scale(keeps=True), *contract.resized)
    assert raised.value.headline == (
        "Scale() called on inputs of another size gives another output than a new layer with "
        "the same weights."
    )
    assert (
        raised.value.details[0]
        == "case: one Scale() called on inputs (2, 4, 4, 3) then (1, 5, 3, 3)"
    )
    assert raised.value.hint == RESIZED
