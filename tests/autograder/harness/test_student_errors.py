"""The line of a student's code that raised, as feedback names it."""

import tensorflow as tf

from autograder.harness.student_errors import describe, student_line


def _raised(fn, *args) -> BaseException:
    try:
        fn(*args)
    except Exception as error:  # noqa: BLE001  the test reads whatever was raised
        return error
    raise AssertionError("no exception")


def mask_size(shape):
    sizes = [int(size) for size in shape]  # int() of an unknown size raises when traced
    return sizes


def test_the_line_is_the_student_s_own():
    where = student_line(_raised(mask_size, [2, None]))
    assert where.startswith("line ") and ": sizes = [int(size) for size in shape]" in where


def test_autograph_s_generated_code_is_never_called_the_student_s():
    """In a tf.function, autograph runs a rewritten copy of the code from a generated file
    whose lines read `ag__.converted_call(...)`: feedback used to call that "your code"."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def traced(x):
        return mask_size(x.shape)

    error = _raised(traced, tf.zeros((2, 3)))
    assert "ag__" not in student_line(error)
    assert "ag__" not in describe(error).where


def test_tensorflow_s_op_wrapping_is_taken_off_the_message():
    error = _raised(tf.add, tf.ones((2, 4)), tf.ones((2, 3)))
    assert str(error).startswith("{{function_node")
    assert describe(error).message == "Incompatible shapes: [2,4] vs. [2,3]"


def test_only_a_trailing_op_suffix_is_taken_off():
    assert describe(ValueError("kept [Op:Foo] here")).message == "kept [Op:Foo] here"
    assert describe(ValueError("cut [Op:Foo] name: ")).message == "cut"
