"""Adding a lesson is copying a folder: no shared file names it.

In a copy of the course's packages, a newcomer's lesson `99_tiny` is made as docs/authoring.md
says: lesson 02's folder copied and edited down to one exercise (`double`) with one check, one
catalogued mistake and one operation of its own, plus its notebook, its `solutions` module
and its wrong version. Then, in one fresh process on that copy, the course finds the lesson
and the conformance suite runs over it as over every other lesson: the reference passes
every cell in process and across the boundary over seeds, the wrong version fails its cell and
is named, and the untouched release fails every cell as not implemented.
"""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[3]
COPIED = ("autograder", "solutions", "notebooks", "tests/conftest.py", "tests/autograder/lessons")
JUNK = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")

SOLUTION = '''\
"""Reference solution of lesson 10 (tiny)."""

import numpy as np


def double(x):
    """Every entry of `x` times two."""
    ### BEGIN SOLUTION
    return np.asarray(x) * 2
    ### END SOLUTION
'''

WRONG_VERSIONS = '''\
"""Wrong versions of lesson 10's code."""

import numpy as np

from solutions.mistakes import WrongVersion


def double_squared(x):
    return np.asarray(x) ** 2


WRONG_VERSIONS = (
    WrongVersion(
        "squared", {"double": "solutions.mistakes.tiny:double_squared"}, ("test_double",)
    ),
)
'''

CATALOGUE = '''\
"""Known mistakes of lesson 10 (tiny)."""

import numpy as np

from ...diagnosis import Mistake, Variant, same_as

SQUARED = Mistake("squared", "squared instead of doubled", "Multiply by 2, not by x.")
CATALOGUE = (SQUARED,)
VARIANTS = (Variant(SQUARED, same_as(lambda probe: probe["x"] ** 2)),)


def probes() -> list[dict]:
    return [{"x": np.array([3.0, -1.5, 0.5])}]
'''

OPS = '''\
"""Lesson 10's own operation."""

import numpy as np

__all__ = ["doubled_total"]


def doubled_total(fn, x) -> float:
    """The sum of `fn(x)`."""
    return float(np.sum(fn(x)))


OPERATIONS = (doubled_total,)
'''

CHECKS = '''\
"""Checks of lesson 10 (tiny)."""

import numpy as np

from ...compare import Tolerance, compare
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases
from ...student import perform, run
from . import mistakes as catalogue

NOTHING = ForbiddenOps("nothing", (), "nothing is forbidden in this lesson")
CASES = {"public": [((3,), 1), ((2, 4), 2)], "hidden": [((5, 1), 3)]}
TOL = Tolerance(1e-9, 0.0, "doubling is exact")


def check_double(double, hidden=False):
    """x * 2 on stored cases (fresh values when grading)."""
    kind = "hidden" if hidden else "public"
    for shape, stored in CASES[kind]:
        x = np.random.default_rng(cases.seed(stored)).normal(size=shape)
        case = f"x of shape {shape}"
        mismatch = compare(run("double", double, x, case=case, forbidden=NOTHING), 2 * x, TOL)
        total = perform("double", "doubled_total", double, x, case=case, forbidden=NOTHING)
        if mismatch or abs(total - 2 * x.sum()) > 1e-9:
            probes = catalogue.probes()
            outputs = [run("double", double, p["x"], forbidden=NOTHING) for p in probes]
            mistake = first_match(outputs, probes, catalogue.VARIANTS)
            details = [f"case: {case}", *(mismatch.lines if mismatch else [])]
            if mistake is not None:
                details.append(mistake.feedback())
            raise CheckFailed("double gives the wrong output.", details, mistake=mistake)
    passed(f"double matches 2 * x on {len(CASES[kind])} cases")
'''

# The tiny lesson's own test file: what the conformance suite cannot know.
OWN_TESTS = """\
from pathlib import Path

from autograder import lessons
from autograder.harness import ops


def test_the_copy_is_the_course_under_test():
    assert lessons.FOLDER == Path(__file__).parents[4] / "autograder" / "lessons"


def test_the_lesson_is_found_by_its_folder():
    from autograder.checks import tiny as checks

    assert lessons.names()[-1] == "99_tiny"
    assert checks is lessons.module("99_tiny", "checks")
    assert lessons.by_topic("tiny") == "99_tiny"
    assert lessons.optional("99_tiny", "samples") is None


def test_its_operation_joins_the_registry():
    assert ops.OPERATIONS["doubled_total"].__module__ == "autograder.lessons.99_tiny.ops"
"""


def _notebook(path: Path) -> None:
    def code(source, **grading):
        cell = nbformat.v4.new_code_cell(source)
        if grading:
            cell.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **grading}
        return cell

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        code("from autograder.checks import tiny as checks\nimport numpy as np"),
        code(SOLUTION.split("\n\n\n")[1], solution=True, grade=False, grade_id="double"),
        code(
            "checks.check_double(double)\n### BEGIN HIDDEN TESTS\n"
            "checks.check_double(double, hidden=True)\n### END HIDDEN TESTS",
            solution=False,
            grade=True,
            grade_id="test_double",
            points=1,
        ),
    ]
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)


def _new_lesson(tree: Path) -> None:
    """What a newcomer adds, touching no file of the course that exists already."""
    lesson = tree / "autograder" / "lessons" / "99_tiny"
    shutil.copytree(tree / "autograder" / "lessons" / "02_convolution", lesson, ignore=JUNK)
    for part in lesson.glob("*.py"):  # lesson 02's parts, edited down to the tiny lesson's
        part.unlink()
    (lesson / "__init__.py").write_text('"""Lesson 10 (tiny)."""\n')
    (lesson / "checks.py").write_text(CHECKS)
    (lesson / "mistakes.py").write_text(CATALOGUE)
    (lesson / "ops.py").write_text(OPS)
    (tree / "solutions" / "tiny.py").write_text(SOLUTION)
    (tree / "solutions" / "mistakes" / "tiny.py").write_text(WRONG_VERSIONS)
    _notebook(tree / "notebooks" / "99_tiny" / "tiny.ipynb")
    tests = tree / "tests" / "autograder" / "lessons" / "99_tiny"
    tests.mkdir()
    (tests / "test_tiny.py").write_text(OWN_TESTS)


def test_a_lesson_is_added_by_copying_a_folder(tmp_path):
    for name in COPIED:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=JUNK)
        else:
            shutil.copy(source, target)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    _new_lesson(tmp_path)
    assert all(p.read_bytes() == content for p, content in before.items())  # no file edited

    lessons = tmp_path / "tests" / "autograder" / "lessons"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:xdist"]
    command += ["--import-mode=importlib", "--rootdir", str(tmp_path), "-k", "99_tiny or tiny"]
    command += [str(lessons / "test_conformance.py"), str(lessons / "99_tiny")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # every test of the conformance suite ran over the lesson and passed, and its own tests too
    wanted = _test_names((lessons / "test_conformance.py").read_text()) | _test_names(OWN_TESTS)
    ran = [line.split() for line in done.stdout.splitlines() if "::" in line]
    passed = {words[0].split("::")[1].split("[")[0] for words in ran if words[1] == "PASSED"}
    assert wanted <= passed, done.stdout[-3000:]


def _test_names(source: str) -> set[str]:
    return {
        node.name
        for node in ast.parse(source).body
        if getattr(node, "name", "").startswith("test_")
    }
