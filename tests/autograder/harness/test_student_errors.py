"""The line of a student's code that raised, as feedback names it."""

import tensorflow as tf

from autograder.harness.execution import execute
from autograder.harness.student_errors import describe, raised_where


def _raised(fn, *args) -> BaseException:
    try:
        fn(*args)
    except Exception as error:  # noqa: BLE001  the test reads whatever was raised
        return error
    raise AssertionError("no exception")


def mask_size(shape):
    sizes = [int(size) for size in shape]  # int() of an unknown size raises when traced
    return sizes


def _error(fn, *args):
    """What the harness describes when `fn(*args)` raises (it catches in the autograder)."""
    return execute("call", (fn, *args), {}).error


def test_the_line_is_the_student_s_own():
    """A comprehension's frame is named as the function it is written in."""
    error = _error(mask_size, [2, None])
    assert error.where.startswith("line ") and "of mask_size: sizes = [int(size)" in error.where
    assert error.called_from == ""


def given_window(x, size):  # a helper the notebook gives
    return x.reshape(-1, size * size)


def student_conv(x, size):
    windows = given_window(x, size)
    return windows.sum(axis=1)


def test_a_given_function_that_raises_names_the_student_s_call_of_it():
    """Given code that raised was called "your code"; the line of the student's function that
    called it is named now, and the hint no longer calls the given line the student's."""
    import numpy as np
    import pytest

    from autograder.builtin_ops import CONVOLUTION_OPS
    from autograder.feedback import CheckFailed
    from autograder.guard import ForbiddenOps
    from autograder.harness.remote import LoopbackSession
    from autograder.student import run

    error = _error(student_conv, np.ones(5), 2)
    assert error.where.startswith("line ") and "of given_window: return x.reshape(" in error.where
    assert "of student_conv: windows = given_window(x, size)" in error.called_from
    forbidden = ForbiddenOps("a convolution", CONVOLUTION_OPS, "")
    local = {"student_conv": student_conv}
    remote = LoopbackSession(local).globals(local)
    for conv in (student_conv, remote["student_conv"]):
        with pytest.raises(CheckFailed) as failure:
            run("conv", conv, np.ones(5), 2, forbidden=forbidden)
        hint = failure.value.hint
        assert hint.startswith("it happened at line ") and "of given_window" in hint, hint
        assert ", called from your code at line " in hint and "of student_conv" in hint, hint


def test_autograph_s_generated_code_is_never_called_the_student_s():
    """In a tf.function, autograph runs a rewritten copy of the code from a generated file
    whose lines read `ag__.converted_call(...)`: feedback used to call that "your code"."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def traced(x):
        return mask_size(x.shape)

    error = _raised(traced, tf.zeros((2, 3)))
    assert "ag__" not in raised_where(error)[0]
    assert "ag__" not in describe(error).where


def test_an_error_inside_a_tf_function_a_layer_calls_names_its_message_and_line():
    """Keras wraps the error of a layer's call(); inside it, TensorFlow's "in user code:" list of
    frames: the student saw only "TypeError: in user code:" and the line that called the
    tf.function. The real message and the traced line, called from the layer's, are named now."""
    import keras

    @tf.function(reduce_retracing=True)
    def flatten(x):
        return tf.reshape(x, (-1, x.shape[0] * 3))  # unknown batch: None * 3

    class Layer(keras.layers.Layer):
        def call(self, x):
            return flatten(x)

    layer = Layer()
    for rows in (2, 5, 7):  # a later call retraces with an unknown batch size
        described = _error(layer, tf.zeros((rows, 3)))
        if described is not None:
            break
    assert described.message.startswith("unsupported operand type(s) for *"), described.message
    assert "of flatten: return tf.reshape(x, (-1, x.shape[0] * 3))" in described.where
    assert "of call: return flatten(x)" in described.called_from


def test_tensorflow_s_op_wrapping_is_taken_off_the_message():
    error = _raised(tf.add, tf.ones((2, 4)), tf.ones((2, 3)))
    assert str(error).startswith("{{function_node")
    assert describe(error).message == "Incompatible shapes: [2,4] vs. [2,3]"


def test_only_a_trailing_op_suffix_is_taken_off():
    assert describe(ValueError("kept [Op:Foo] here")).message == "kept [Op:Foo] here"
    assert describe(ValueError("cut [Op:Foo] name: ")).message == "cut"


def test_a_traced_frame_listed_without_its_source_is_not_given_the_next_frame_as_source():
    from autograder.harness.student_errors import traced_where

    text = (
        'in user code:\n\n    File "/no/such/notebook.py", line 53, in keep_mask  *\n'
        '    File "/usr/lib/python3/dist-packages/keras/random.py", line 126, in uniform\n'
        "        return draw(shape)\n\n    TypeError: bad shape\n"
    )
    assert traced_where(TypeError(text)) == ""
    here = __file__
    text = text.replace("/no/such/notebook.py", here).replace("line 53", "line 1")
    assert traced_where(TypeError(text)) == f"line 1 of keep_mask: {open(here).readline().strip()}"
