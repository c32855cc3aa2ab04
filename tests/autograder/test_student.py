import keras
import numpy as np
import pytest
from keras import ops

from autograder.checks import convolution
from autograder.feedback import CheckFailed
from autograder.student import NOT_IMPLEMENTED_HINT, error_hint, run

CONVOLUTION = convolution.CONVOLUTION

X = np.random.default_rng(0).normal(size=(1, 5, 5, 2)).astype("float32")
K = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype("float32")


def test_run_names_the_forbidden_op_in_feedback():
    with pytest.raises(CheckFailed, match=r"calls a built-in convolution \(keras.ops.conv\)"):
        run("Conv2D", lambda: ops.conv(X, K), forbidden=CONVOLUTION)


def test_python_run_by_tensorflow_is_refused_as_such_not_as_the_lesson_s_built_in():
    import tensorflow as tf

    def doubled(x):
        return tf.py_function(lambda v: v * 2, [x], tf.float32)

    with pytest.raises(CheckFailed, match="runs Python inside TensorFlow") as failure:
        run("Conv2D", doubled, X, forbidden=CONVOLUTION)
    assert "convolution" not in failure.value.headline


def test_run_turns_not_implemented_into_advice():
    def stub():
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        run("im2col", stub, forbidden=CONVOLUTION)


def test_an_error_hint_replaces_the_hint_of_failing_code_but_not_of_a_stub():
    def stub():
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure, error_hint("works on any rank"):
        run("Dense", lambda: 1 / 0, forbidden=CONVOLUTION)
    assert failure.value.hint == "works on any rank"
    assert "raised ZeroDivisionError" in failure.value.headline
    with pytest.raises(CheckFailed) as failure, error_hint("works on any rank"):
        run("Dense", stub, forbidden=CONVOLUTION)
    assert failure.value.hint == NOT_IMPLEMENTED_HINT
    with pytest.raises(CheckFailed) as failure, error_hint(""):
        run("Dense", lambda: 1 / 0, forbidden=CONVOLUTION)
    assert failure.value.hint.startswith("it happened in your code")


def test_run_reports_the_exception_type_and_message():
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError: division by zero"):
        run("cross_correlate2d", lambda: 1 / 0, forbidden=CONVOLUTION)


def test_a_library_not_implemented_error_is_not_mistaken_for_a_stub():
    def symbolic_to_numpy():
        message = "Cannot convert a symbolic tensor to a NumPy array"
        raise NotImplementedError(message)

    with pytest.raises(CheckFailed, match="raised NotImplementedError: Cannot convert"):
        run("Conv2D.call", symbolic_to_numpy, forbidden=CONVOLUTION)


def test_keras_wrapped_errors_show_the_original_message():
    class Broken(keras.layers.Layer):
        def call(self, inputs):
            raise ValueError("shapes (2, 3) and (4, 5) do not align")

    with pytest.raises(CheckFailed, match=r"raised ValueError: shapes \(2, 3\) and \(4, 5\)"):
        run("Broken", Broken(), X, forbidden=CONVOLUTION)


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
        run("Pool", namespace["Pool"](), X, forbidden=CONVOLUTION)


PAD_OR_CONVOLVE = ("numpy.pad", "numpy.convolve")


def test_allowing_lifts_only_the_named_functions_for_its_block():
    from autograder.harness.execution import execute
    from autograder.harness.guarding import allowing

    def code():
        with allowing(["numpy.pad"]):
            np.pad(np.ones(3), 1)
            np.convolve(np.ones(3), np.ones(2))
        np.pad(np.ones(3), 1)

    result = execute("call", (code,), {}, PAD_OR_CONVOLVE)
    assert result.forbidden == ["numpy.convolve", "numpy.pad"]


def test_the_gradients_op_may_allow_functions_in_the_backward_pass_only():
    from autograder.harness.execution import execute
    from solutions.padding import Conv2D

    layer = Conv2D(2, (4, 2), padding="same")
    layer.build(X.shape)
    names = ("tensorflow.python.ops.gen_array_ops.pad",)
    # TensorFlow differentiates the slices of the reference's padding with tf.pad
    assert execute("gradients", (layer, X), {"upstream": 1.0}, names).forbidden == list(names)
    allowed = execute("gradients", (layer, X), {"upstream": 1.0, "allow_in_backward": names}, names)
    assert allowed.forbidden == [] and allowed.error is None
    assert set(allowed.value["weights"]) == {"kernel", "bias"}

    class PaddingConv2D(Conv2D):
        def call(self, inputs):
            return super().call(ops.pad(inputs, ((0, 0), (0, 0), (0, 0), (0, 0))))

    layer = PaddingConv2D(2, (4, 2), padding="same")
    layer.build(X.shape)
    names = ("keras.ops.pad",)
    found = execute("gradients", (layer, X), {"upstream": 1.0, "allow_in_backward": names}, names)
    assert found.forbidden == ["keras.ops.pad"]
