"""Test cells read as calls of the checks, run on the grader's side."""

import base64

import nbformat
import pytest

from autograder.feedback import CheckFailed, passed
from autograder.grading.test_cells import (
    CheckCall,
    NotChecks,
    checks_module_name,
    parse,
    run_calls,
    write_outputs,
)


def test_a_lesson_test_cell_is_its_check_calls():
    source = (
        "checks.check_conv2d(Conv2D)\n### BEGIN HIDDEN TESTS\n"
        "checks.check_conv2d(Conv2D, hidden=True)\n### END HIDDEN TESTS"
    )
    assert parse(source) == [
        CheckCall("check_conv2d", (("name", "Conv2D"),), {}),
        CheckCall("check_conv2d", (("name", "Conv2D"),), {"hidden": True}),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "assert add(1, 2) == 3",
        "checks.check_x(f(1))",
        "checks.helper(x)",
        "x = checks.check_x(y)",
        "checks.check_x(**kwargs)",
        "other.check_x(y)",
    ],
)
def test_anything_else_is_not_a_check_cell(source):
    with pytest.raises(NotChecks):
        parse(source)


def test_the_checks_binding_comes_from_the_released_notebook():
    source = "import numpy as np\nfrom autograder.checks import padding as checks"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    assert checks_module_name(nb) == "autograder.checks.padding"


def test_run_calls_stops_at_the_first_failure_and_writes_only_the_feedback():
    class Module:
        @staticmethod
        def check_ok(obj):
            passed(f"{obj} is fine")

        @staticmethod
        def check_bad(obj, hidden=False):
            raise CheckFailed("It is wrong.", ["case: small"], "look again")

    calls = parse("checks.check_ok(a)\nchecks.check_bad(a, hidden=True)\nchecks.check_ok(a)")
    verdict = run_calls(calls, Module, lambda name: name.upper())
    assert verdict.stdout == "OK: A is fine\n"
    assert verdict.failure == "It is wrong.\n  case: small\n  Hint: look again"
    cell = nbformat.v4.new_code_cell("...")
    write_outputs(cell, verdict, 3)
    assert [o.output_type for o in cell.outputs] == ["stream", "error"]
    red, plain = cell.outputs[1].traceback[0], cell.outputs[1].traceback[1:]
    assert "It is wrong." in red and red.startswith("\x1b[")
    assert plain == ["  case: small", "  Hint: look again"]  # not a wrong answer: no fold


def test_course_imports_are_the_released_notebooks_own_imports():
    from autograder.grading.test_cells import course_imports

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from autograder.checks import convolution as checks\nfrom course import data, plot\n"
            "\nimport keras\nimport numpy as np\nfrom keras import ops"
        ),
        nbformat.v4.new_code_cell("import mine", metadata={"nbgrader": {"solution": True}}),
        nbformat.v4.new_code_cell("def f():\n    import inside_a_function\nfrom . import relative"),
        nbformat.v4.new_code_cell("this is not python"),
    ]
    assert course_imports(nb) == [
        "autograder.checks",
        "autograder.checks.convolution",
        "course",
        "course.data",
        "course.plot",
        "keras",
        "numpy",
        "keras.ops",
    ]


def test_the_verdict_carries_the_catalogued_mistake_the_check_named():
    """The grader records the mistake apart from the text (`cnn-course report` counts it)."""
    from autograder.diagnosis import Mistake
    from autograder.feedback import fail

    flipped = Mistake("flipped", "kernel flipped", "a true convolution.")

    class Module:
        @staticmethod
        def check_named(obj):
            fail("Wrong output.", mistake=flipped)

        @staticmethod
        def check_plain(obj):
            fail("Wrong output.")

    named = run_calls(parse("checks.check_named(a)"), Module, str)
    assert named.mistake == {"id": "flipped", "title": "kernel flipped"}
    assert "Likely mistake: kernel flipped. a true convolution." in named.failure
    assert run_calls(parse("checks.check_plain(a)"), Module, str).mistake is None


@pytest.mark.parametrize("wrong_shape", [False, True], ids=["values", "shape"])
def test_a_failed_map_check_leaves_its_picture_under_the_error(wrong_shape):
    import numpy as np

    from autograder.compare import Tolerance, compare
    from autograder.feedback import fail

    expected = np.zeros((1, 5, 5, 2))
    wrong = np.ones((1, 3, 3, 2)) if wrong_shape else expected.copy()  # two rows/columns short
    wrong[0, 0, :, 1] = 1.0

    class Module:
        @staticmethod
        def check_map(obj):
            mismatch = compare(obj, expected, Tolerance(0, 0))
            fail("The map is wrong.", mismatch, hint="pad with zeros", case="a border")

        @staticmethod
        def check_text(obj):
            raise CheckFailed("It is wrong.", ["no arrays"])

    verdict = run_calls(parse("checks.check_map(a)"), Module, lambda name: wrong)
    assert verdict.figure.startswith(b"\x89PNG") and len(verdict.figure) < 50_000
    cell = nbformat.v4.new_code_cell("...")
    write_outputs(cell, verdict, 1)
    assert [o.output_type for o in cell.outputs] == ["error", "display_data", "display_data"]
    assert cell.outputs[0].evalue == verdict.failure  # the whole text stays its value
    assert "Hint" not in "".join(cell.outputs[0].traceback)  # shown: all but the hint
    assert set(cell.outputs[1].data) == {"image/png", "text/plain"}
    assert base64.b64decode(cell.outputs[1].data["image/png"]) == verdict.figure
    assert cell.outputs[2].data == {"text/plain": "\u25b8 A hint\n  Hint: pad with zeros"}
    text = run_calls(parse("checks.check_text(a)"), Module, lambda name: wrong)
    assert text.figure is None
    write_outputs(cell, text, 2)
    assert [o.output_type for o in cell.outputs] == ["error"]


def test_a_failure_in_a_kernel_whose_keras_settings_changed_says_so():
    # A scratch cell's keras.config.set_floatx("float64") makes checks fail on the formula's
    # account; the note names the setting. The settings are read where the objects live.
    import keras

    from autograder.harness.remote import LoopbackSession

    class Module:
        @staticmethod
        def check_bad(obj):
            raise CheckFailed("It is wrong.", ["case: small"], "look again")

    ref = LoopbackSession({"f": len}).globals(["f"])["f"]
    calls = parse("checks.check_bad(f)")
    assert "Note:" not in run_calls(calls, Module, lambda name: ref).failure
    keras.config.set_floatx("float64")
    try:
        verdict = run_calls(calls, Module, lambda name: ref)
    finally:
        keras.config.set_floatx("float32")
    assert "keras.config.floatx() is 'float64', not 'float32'" in verdict.failure
    assert verdict.shown.endswith("restart the kernel and run the notebook again.")
