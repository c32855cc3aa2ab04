"""Solved lessons get full marks from stock nbgrader with a plain configuration.

An instructor who adds these notebooks to an existing nbgrader course grades them with
`nbgrader autograde` and their own `nbgrader_config.py`, none of the course's preprocessors.
nbgrader zeroes a test cell that writes to stderr, and TensorFlow's C++ runtime logs there
("oneDNN supports DT_INT32 only on platforms with AVX-512", inside lesson 03's and 04's
`test_conv2d_trains`): the lessons' first cell imports the course's modules, which quiet
TensorFlow before it loads, so no log line costs a point. TensorFlow's variables are removed
from the environment here, so the notebooks must do it themselves.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import submissions

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
PLAIN_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "an-existing-course"
c.Execute.timeout = 300  # the default of 30 s is short on a busy 2-core machine
"""


def _nbgrader(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.mark.parametrize("path", ["03_padding/padding.ipynb", "04_stride/stride.ipynb"])
def test_a_solved_lesson_gets_full_marks_from_stock_nbgrader(path, tmp_path):
    source = ROOT / "notebooks" / path
    assignment, name = source.parent.name, source.name
    (tmp_path / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    shutil.copytree(source.parent, tmp_path / "source" / assignment)
    _nbgrader("generate_assignment", assignment, "--force", cwd=tmp_path)
    released = nbformat.read(tmp_path / "release" / assignment / name, as_version=4)
    solved = submissions.perfect(nbformat.read(source, as_version=4), released)
    target = tmp_path / "submitted" / "someone" / assignment / name
    target.parent.mkdir(parents=True)
    nbformat.write(solved, target)

    _nbgrader("autograde", assignment, cwd=tmp_path)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        graded_nb = gb.find_submission_notebook(source.stem, assignment, "someone")
        scores = {grade.name: grade.score for grade in graded_nb.grades}
    expected = submissions.test_points(released)
    assert scores == expected, {
        cell: (scores.get(cell), points)
        for cell, points in expected.items()
        if scores.get(cell) != points
    }
    graded = nbformat.read(tmp_path / "autograded" / "someone" / assignment / name, as_version=4)
    stderr = [
        output.text
        for cell in graded.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("name") == "stderr"
    ]
    assert stderr == [], stderr
