"""`course.ready`: a demonstration names the unfinished exercise it needs, in one line."""

import importlib.util
import sys

import pytest

from course import ready

STUDENT_CODE = '''
def done(x):
    return 2 * x


def unfinished(x):
    """Double x."""
    # YOUR CODE HERE
    raise NotImplementedError()


class Layer:
    def __init__(self, rate):
        self.rate = rate

    def call(self, inputs, training=None):
        # YOUR CODE HERE
        raise NotImplementedError()


class Finished(Layer):
    def call(self, inputs, training=None):
        if training:
            raise NotImplementedError("a message: not the exercise's placeholder")
        return inputs
'''


@pytest.fixture
def student(tmp_path):
    path = tmp_path / "student_cells.py"
    path.write_text(STUDENT_CODE)
    spec = importlib.util.spec_from_file_location("student_cells", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("student_cells", None)


def test_done_code_passes(student):
    ready.require("Exercise 1", student.done)
    ready.require("Exercise 2", student.Finished)
    ready.require("Exercise 3", len, print)  # no source to read: taken as done


def test_a_placeholder_stops_the_cell_with_one_line_naming_the_exercise(student):
    with pytest.raises(ready.Unfinished) as raised:
        ready.require("Exercise 1", student.done, student.unfinished)
    lines = raised.value._render_traceback_()
    assert len(lines) == 1 and len(str(raised.value)) < 100, lines
    assert (
        str(raised.value) == "Finish Exercise 1 first: unfinished still raises NotImplementedError."
    )

    with pytest.raises(
        ready.Unfinished, match=r"^Finish Exercise 2 first: Layer\.call still raises"
    ):
        ready.require("Exercise 2", student.Layer)


def test_the_check_reads_code_and_calls_nothing(student):
    assert ready.placeholder(student.unfinished) == "unfinished"
    assert ready.placeholder(student.Layer) == "Layer.call"
    assert ready.placeholder(student.Finished) == ""
    assert ready.placeholder(student.Layer(0.5)) == ""  # an instance: its class is the exercise
