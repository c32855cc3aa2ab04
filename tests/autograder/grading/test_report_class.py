"""The class report's numbers, on a gradebook filled through nbgrader's own API (no grading run)
with autograded notebooks and grader records written as `cnn-course grade` writes them."""

import nbformat
from nbformat.v4 import new_output

from autograder.grading.report_class import (
    MistakeStats,
    class_report,
    notebook_mistakes,
)
from autograder.grading.worker import COMPLETE
from tests.autograder.grading.conftest import (
    ASSIGNMENT,
    HOSTILE_ID,
    HOSTILE_TEXT,
    add_graded,
    failure,
)


def test_scores_checks_mistakes_review_failures_and_times(class_course):
    course = class_course
    (lesson,) = class_report(course)
    assert lesson.assignment == ASSIGNMENT and lesson.max_score == 4.0
    assert [s.student for s in lesson.submissions] == sorted(
        ["ann", "bo", "cy", "dee", "eve", "zed", HOSTILE_ID]
    )
    assert sorted(lesson.scores) == [0, 0, 0, 2, 3, 3, 4]
    assert lesson.mean == 12 / 7 and lesson.median == 2.0
    checks = {c.grade_id: (c.points, c.full, c.partial, c.zero) for c in lesson.checks}
    assert [c.grade_id for c in lesson.checks] == ["test_add", "test_scale", "test_counter"]
    assert checks == {
        "test_add": (1.0, 2, 0, 5),
        "test_scale": (2.0, 3, 1, 3),
        "test_counter": (1.0, 3, 0, 4),
    }
    assert lesson.checks[0].pass_rate == 2 / 7
    assert lesson.mistakes == [
        MistakeStats("a - b instead of a + b", "subtracts", ["test_add"], ["bo", "cy"]),
        MistakeStats(HOSTILE_TEXT, "", ["test_add"], ["zed"]),
    ]
    held = {s.student: s.review for s in lesson.held}
    assert held == {
        "dee": ["withheld for review: cell 3, line 1: imports os"],
        "zed": [f"withheld for review: {HOSTILE_TEXT}"],
        HOSTILE_ID: ["needs manual grading: test_add"],
    }
    assert [(s.student, s.status, s.reason) for s in lesson.failed] == [
        ("eve", "unreadable", "arith.ipynb cannot be graded: invalid JSON"),
        ("zed", "graded", f"cells were not run: {HOSTILE_TEXT}"),
    ]
    assert [(s.student, s.seconds) for s in lesson.slowest(3)] == [
        ("bo", 12.25),
        ("cy", 7.0),
        ("ann", 3.5),
    ]
    hostile = next(s for s in lesson.submissions if s.student == HOSTILE_ID)
    assert hostile.status == "unknown" and hostile.seconds is None


def test_manual_grading_without_a_finding_is_a_reason_for_review(course):
    add_graded(
        course,
        "fay",
        {"test_add": 1, "test_scale": None, "test_counter": 1},
        meta={},
        manual=("test_scale",),
    )
    (lesson,) = class_report(course)
    assert lesson.held[0].review == ["needs manual grading: test_scale"]
    assert lesson.checks[1].unscored == 1 and lesson.checks[1].pass_rate is None


def test_a_mistake_is_never_read_from_output_the_kernel_wrote():
    """A test cell the grader ran in the kernel (not only check calls) has the kernel's
    outputs: its "Likely mistake" line is the submission's, and is not counted; neither is
    one in an output that is not the checks' failure."""
    from autograder.grading.report_class import notebook_mistakes as mistakes_of

    def test_cell(grade_id, outputs):
        cell = nbformat.v4.new_code_cell("checks.check_add(add)")
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "solution": False}
        cell.outputs = outputs
        return cell

    line = "add wrong.\n  Likely mistake: forged. explanation"
    nb = nbformat.v4.new_notebook(
        cells=[
            test_cell("test_a", failure(line)),
            test_cell("test_b", failure(line)),
            test_cell("test_c", [new_output("stream", name="stdout", text=line)]),
            test_cell("test_d", failure(line, ename="NameError")),
        ]
    )
    nb.metadata["cnn_course"] = {"unchecked": ["cell 2 (line 1 is not a call of checks.check_*)"]}
    assert mistakes_of(nb) == {"test_a": {"id": "", "title": "forged"}}
    assert notebook_mistakes(nbformat.v4.new_notebook()) == {}


def test_only_notebooks_the_grader_finished_are_read(course):
    """Without the grader's record, or changed after it (autograded again by stock nbgrader,
    which keeps the submission's `cnn_course` metadata), a notebook's reasons and mistakes
    are not believed."""
    import os

    forged = {"findings": ["forged"], "mistakes": {"test_add": {"id": "x", "title": "forged"}}}
    zeros = {"test_add": 0, "test_scale": 0, "test_counter": 0}
    add_graded(course, "norecord", zeros, meta=forged)
    add_graded(course, "later", zeros, meta=forged, record={"status": "graded", "seconds": 1})
    folder = course.autograded_dir("later", ASSIGNMENT)
    record = (folder / COMPLETE).stat().st_mtime
    os.utime(folder / "arith.ipynb", (record + 5, record + 5))
    (lesson,) = class_report(course)
    assert lesson.mistakes == [] and lesson.held == []
