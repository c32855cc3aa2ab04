"""keras_layers: Conv2D's arguments are Keras's, and a layer case is described as feedback
names it, without the weights given as None."""

import inspect

import keras
import numpy as np

from autograder.keras_layers import CONV2D_ARGUMENTS, layer_case, pair


def test_conv2d_arguments_are_keras_s():
    assert set(CONV2D_ARGUMENTS) <= set(inspect.signature(keras.layers.Conv2D).parameters)


def test_pair_reads_sizes_as_keras_does():
    assert pair(3) == (3, 3)
    assert pair([3, 2]) == (3, 2)


def test_layer_case_describes_the_call_and_leaves_out_missing_weights():
    x, kernel = np.zeros((2, 7, 7, 1), "float32"), np.ones((3, 3, 1, 4), "float32")
    kwargs = {"padding": "same", "use_bias": False}
    case = layer_case("Conv2D", (4, 3), kwargs, x, {"kernel": kernel, "bias": None}, "a hint")
    assert case.text == "Conv2D(4, 3, padding='same', use_bias=False) on inputs (2, 7, 7, 1)"
    assert case.args == (4, 3) and case.expected is None and case.shape_hint == "a hint"
    assert case.layer_kwargs is kwargs and case.inputs is x
    assert list(case.weights) == ["kernel"]


def test_layer_case_may_build_with_more_arguments_than_it_names():
    x = np.zeros((1, 4, 4, 1), "float32")
    built = {"padding": "full", "use_bias": True, "activation": None}
    case = layer_case("Conv2D", (2, 3), {"padding": "full"}, x, {}, expected=x, layer_kwargs=built)
    assert case.text == "Conv2D(2, 3, padding='full') on inputs (1, 4, 4, 1)"
    assert case.layer_kwargs is built and case.expected is x
