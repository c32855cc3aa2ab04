import copy

import nbformat
from nbformat.v4 import new_code_cell, new_output

from autograder.grading.outcomes import cell_problem, notebook_notes, tampering


def _test_cell(*outputs, grade_id="test_x"):
    meta = {"nbgrader": {"grade": True, "solution": False, "grade_id": grade_id, "locked": True}}
    return new_code_cell("check()", metadata=meta, outputs=list(outputs))


def test_timeout_is_named_before_the_interrupt_it_caused():
    cell = _test_cell(
        new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[]),
        new_output(
            "error", ename="CellTimeoutError", evalue="this cell ran longer than 30 s", traceback=[]
        ),
    )
    assert cell_problem(cell) == "timed out: this cell ran longer than 30 s"


def test_error_headline_is_the_reason():
    cell = _test_cell(
        new_output(
            "error",
            ename="CheckFailed",
            evalue="Conv2D calls a built-in convolution (keras.ops.conv).\n  case: ...",
            traceback=[],
        )
    )
    assert (
        cell_problem(cell) == "CheckFailed: Conv2D calls a built-in convolution (keras.ops.conv)."
    )


def test_stderr_counts_as_a_failure_in_a_test_cell():
    cell = _test_cell(new_output("stream", name="stderr", text="UserWarning: careful\n"))
    assert cell_problem(cell).startswith("wrote to stderr (nbgrader counts that as a failure)")
    assert cell_problem(_test_cell(new_output("stream", name="stdout", text="OK\n"))) == ""


def test_notebook_notes_skip_stderr_outside_test_cells():
    nb = nbformat.v4.new_notebook(
        cells=[
            new_code_cell(
                "import tensorflow",
                outputs=[
                    new_output("stream", name="stderr", text="oneDNN custom operations are on\n")
                ],
            ),
            new_code_cell(
                "plot()",
                outputs=[new_output("error", ename="NameError", evalue="name 'f' is not defined")],
            ),
            new_code_cell(
                "# This cell (id:test_x) was missing from the submission. It was...\ncheck()",
                metadata=_test_cell().metadata,
            ),
            new_code_cell(
                "print(s)",
                outputs=[
                    new_output("stream", name="stdout", text="x\n... Output truncated: 9 more ...")
                ],
            ),
        ]
    )
    assert notebook_notes(nb) == [
        "cell 2 raised NameError: name 'f' is not defined",
        "cell 3 (test_x) was deleted; nbgrader put it back and graded it",
        "cell 4 printed too much; its output was cut",
    ]


def test_tampering_names_edited_and_deleted_locked_cells():
    locked = {"nbgrader": {"grade": False, "solution": False, "locked": True, "grade_id": "setup"}}
    release = nbformat.v4.new_notebook(
        cells=[
            new_code_cell("import numpy as np", metadata=locked),
            _test_cell(grade_id="test_a"),
            _test_cell(grade_id="test_b"),
        ]
    )
    submitted = copy.deepcopy(release)
    assert tampering(submitted, release) == []
    submitted.cells[1].source = "pass"
    del submitted.cells[0]
    del submitted.cells[-1]
    assert tampering(submitted, release) == [
        "locked cell setup was deleted (it is not graded)",
        "test cell test_a was edited; nbgrader restored the original",
    ]
