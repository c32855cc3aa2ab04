"""End to end on every lesson: release them all, then one `cnn-course grade` run over a
perfect and an untouched submission of each: full marks and zero, through nbgrader.

Lesson 02 is graded in depth in test_e2e_convolution.py (its perfect and untouched
submissions among them), so it is released here but not graded again. Every lesson's mistakes
are proven to fail exactly their cells in tests/autograder/lessons/test_conformance.py (and
`cnn-course demo` repeats that through nbgrader for all of them).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.sync import lesson_notebooks
from autograder.grading.config import Settings
from autograder.grading.course_dir import CourseDir
from autograder.grading.release import release
from autograder.grading.submissions import make_samples

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = lesson_notebooks(ROOT / "notebooks")
GRADED = [path for path in NOTEBOOKS if path.parent.name != "02_convolution"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lessons")
    course = CourseDir(tmp / "course")
    assignments = [path.parent.name for path in NOTEBOOKS]
    release(ROOT / "notebooks", course, assignments, Settings(cell_timeout=120), print)
    points = {}
    for path in GRADED:
        assignment = path.parent.name
        samples = make_samples(
            course.source / assignment / path.name, course.release / assignment / path.name
        )
        samples.write(tmp / "submissions")
        points[assignment] = sum(samples.points.values())
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.cli",
            "grade",
            tmp / "submissions",
            "--dir",
            course.root,
            "--jobs",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    with course.gradebook() as gb:
        totals = {
            (sub.student.id, assignment): sum(g.score for nb in sub.notebooks for g in nb.grades)
            for assignment in points
            for sub in gb.find_assignment(assignment).submissions
        }
    return run, points, totals


def test_every_lesson_is_released_and_graded(graded):
    run, points, totals = graded
    assert run.returncode == 0, run.stderr
    assert len(points) == len(GRADED) and len(totals) == 2 * len(GRADED)


@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.parent.name)
def test_perfect_gets_full_marks_and_untouched_zero(graded, path):
    _, points, totals = graded
    assignment = path.parent.name
    assert totals[("perfect", assignment)] == points[assignment]
    assert totals[("untouched", assignment)] == 0
