"""The shared layer operations: traced_output_shape passes `training` on only when given."""

import keras

from autograder.harness.ops.layers import traced_output_shape


class ShapeByMode(keras.layers.Layer):
    """Its output shows how it was called: one column per call argument it received."""

    def call(self, inputs, training=None):
        columns = {None: 1, False: 2, True: 3}[training]
        return keras.ops.zeros((keras.ops.shape(inputs)[0], columns))


def test_traced_output_shape_passes_training_only_when_given():
    assert traced_output_shape(ShapeByMode, (None, 4)) == (None, 1)
    assert traced_output_shape(ShapeByMode, (None, 4), training=False) == (None, 2)
    assert traced_output_shape(ShapeByMode, (None, 4), training=True) == (None, 3)
