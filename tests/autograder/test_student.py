import keras
import numpy as np
import pytest
from keras import ops

from autograder.feedback import CheckFailed
from autograder.student import run

X = np.random.default_rng(0).normal(size=(1, 5, 5, 2)).astype("float32")
K = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype("float32")


def test_run_names_the_forbidden_op_in_feedback():
    with pytest.raises(CheckFailed, match=r"calls a built-in convolution \(keras.ops.conv\)"):
        run("Conv2D", lambda: ops.conv(X, K))


def test_run_turns_not_implemented_into_advice():
    def stub():
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        run("im2col", stub)


def test_run_reports_the_exception_type_and_message():
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError: division by zero"):
        run("cross_correlate2d", lambda: 1 / 0)


def test_a_library_not_implemented_error_is_not_mistaken_for_a_stub():
    def symbolic_to_numpy():
        message = "Cannot convert a symbolic tensor to a NumPy array"
        raise NotImplementedError(message)

    with pytest.raises(CheckFailed, match="raised NotImplementedError: Cannot convert"):
        run("Conv2D.call", symbolic_to_numpy)


def test_keras_wrapped_errors_show_the_original_message():
    class Broken(keras.layers.Layer):
        def call(self, inputs):
            raise ValueError("shapes (2, 3) and (4, 5) do not align")

    with pytest.raises(CheckFailed, match=r"raised ValueError: shapes \(2, 3\) and \(4, 5\)"):
        run("Broken", Broken(), X)



def test_a_stub_inside_a_keras_layer_is_recognised_without_its_source():
    namespace = {}
    source = (
        "import keras\n"
        "class Pool(keras.layers.Layer):\n"
        "    def call(self, inputs):\n"
        "        raise NotImplementedError()\n"
    )
    exec(compile(source, "<no source registered>", "exec"), namespace)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        run("Pool", namespace["Pool"](), X)
