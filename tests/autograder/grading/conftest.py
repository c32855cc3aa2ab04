"""Fixtures of the grading tests: a tiny nbgrader assignment ("01_fixture"), no TensorFlow.

`build(tmp)` writes a reference module, a module of wrong versions, a checks module (what
`autograder.checks.<topic>` is for a lesson) and a source notebook whose solution cells are
generated from the reference module (as the course's notebooks are from `solutions/`), and
puts the modules on `sys.path`; a Jupyter configuration folder lets the grading sandbox import
them too. Releasing it takes ~3 s and grading one submission ~2 s, so the tests that run
nbgrader on it stay fast.
"""

import json
import os
import shutil
import sys
import textwrap
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_output

ASSIGNMENT = "01_fixture"
NOTEBOOK = "arith"
REFERENCE = "fixture_solutions"
MISTAKES = "fixture_mistakes"
CHECKS = "fixture_checks"

REFERENCE_SOURCE = '''\
def add(a, b):
    """The sum of a and b."""
    ### BEGIN SOLUTION
    total = a + b
    ### END SOLUTION
    return total


def scale(values, factor):
    """Every value times factor."""
    ### BEGIN SOLUTION
    scaled = [value * factor for value in values]
    ### END SOLUTION
    return scaled


class Counter:
    """Counts calls of step()."""

    def __init__(self):
        self.count = 0

    def step(self):
        ### BEGIN SOLUTION
        self.count += 1
        ### END SOLUTION
        return self.count
'''

MISTAKES_SOURCE = """\
def add_minus(a, b):
    return a - b


def step_twice(self):
    self.count += 2
    return self.count
"""

CHECKS_SOURCE = '''\
"""Checks of the fixture lesson, written as a lesson's checks are."""

from autograder.diagnosis import Mistake
from autograder.feedback import CheckFailed, fail, passed
from autograder.guard import ForbiddenOps
from autograder.harness import cases
from autograder.student import run

NOTHING = ForbiddenOps("nothing", (), "")
SUBTRACTS = Mistake("subtracts", "a - b instead of a + b", "add returns the difference.")


def _equal(what, got, want):
    if got != want:
        raise CheckFailed(f"{what} returned {got!r}; expected {want!r}.")


def check_add(add, hidden=False):
    pairs = [(1, 2)] + ([(-5, 5)] if hidden else [])
    if cases.drawing():
        rng = cases.generator()
        pairs = [tuple(int(v) for v in rng.integers(-99, 99, size=2)) for _ in pairs]
    for a, b in pairs:
        got = run("add", add, a, b, forbidden=NOTHING)
        if got != a + b:
            mistake = SUBTRACTS if got == a - b else None
            fail(f"add({a}, {b}) returned {got!r}; expected {a + b!r}.", mistake=mistake)
    passed("add adds")


def check_scale(scale):
    _equal("scale([1, 2], 3)", run("scale", scale, [1, 2], 3, forbidden=NOTHING), [3, 6])
    passed("scale scales")


def check_counter(Counter, hidden=False):
    counter = run("Counter()", Counter, forbidden=NOTHING)
    run("Counter.step", counter.step, forbidden=NOTHING)
    _equal("the second step()", run("Counter.step", counter.step, forbidden=NOTHING), 2)
    if hidden:
        _equal("the third step()", run("Counter.step", counter.step, forbidden=NOTHING), 3)
    passed("Counter counts")
'''

POINTS = {"test_add": 1.0, "test_scale": 2.0, "test_counter": 1.0}


def _meta(grade_id, solution=False, grade=False, points=None, locked=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": (not solution) if locked is None else locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    """The source notebook (generated cells filled from the reference module)."""
    from autograder.authoring.sync import METADATA_KEY, generated_source

    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        new_md(
            "# Arithmetic\nA fixture lesson: $a + b$, and $$\\sum_{i=1}^{n} x_i$$",
            metadata=_meta("intro", locked=True),
        ),
        new_code(f"import math\nimport {CHECKS} as checks", metadata=_meta("imports", locked=True)),
        new_code("", metadata=_meta("add", solution=True)),
        new_code(
            "checks.check_add(add)\n### BEGIN HIDDEN TESTS\n"
            "checks.check_add(add, hidden=True)\n### END HIDDEN TESTS",
            metadata=_meta("test_add", grade=True, points=1),
        ),
        new_code("", metadata=_meta("scale_counter", solution=True)),
        new_code("checks.check_scale(scale)", metadata=_meta("test_scale", grade=True, points=2)),
        new_code(
            "checks.check_counter(Counter)\n### BEGIN HIDDEN TESTS\n"
            "checks.check_counter(Counter, hidden=True)\n### END HIDDEN TESTS",
            metadata=_meta("test_counter", grade=True, points=1),
        ),
        new_code("print(math.sqrt(add(8, 8)))"),
    ]
    cells[2].metadata[METADATA_KEY] = {"objects": [f"{REFERENCE}:add"]}
    cells[4].metadata[METADATA_KEY] = {"objects": [f"{REFERENCE}:scale", f"{REFERENCE}:Counter"]}
    for cell in cells:
        wanted = generated_source(cell)
        if wanted is not None:
            cell.source = wanted
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def wrong_versions():
    from solutions.mistakes import WrongVersion

    return (
        WrongVersion("add_minus", {"add": f"{MISTAKES}:add_minus"}, ("test_add",)),
        WrongVersion("step_twice", {"Counter.step": f"{MISTAKES}:step_twice"}, ("test_counter",)),
    )


def build(tmp: Path) -> Path:
    """Write the modules and `tmp/notebooks/01_fixture/arith.ipynb`; return the notebooks dir."""
    modules = tmp / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / f"{REFERENCE}.py").write_text(REFERENCE_SOURCE)
    (modules / f"{MISTAKES}.py").write_text(textwrap.dedent(MISTAKES_SOURCE))
    (modules / f"{CHECKS}.py").write_text(CHECKS_SOURCE)
    if str(modules) not in sys.path:
        sys.path.insert(0, str(modules))
    config = tmp / "jupyter_config"
    config.mkdir(exist_ok=True)
    (config / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.SandboxedExecute.extra_paths = [{str(modules)!r}]\n"
    )
    os.environ["JUPYTER_CONFIG_DIR"] = str(config)
    notebooks = tmp / "notebooks"
    (notebooks / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), notebooks / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    return notebooks


@pytest.fixture(scope="session")
def fixture_repo(tmp_path_factory):
    """The fixture's notebooks folder and reference modules (on sys.path)."""
    tmp = tmp_path_factory.mktemp("fixture_repo")
    notebooks = build(tmp)
    return SimpleNamespace(
        root=tmp,
        notebooks=notebooks,
        modules=tmp / "modules",
        source=notebooks / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
        wrong_versions=wrong_versions(),
    )


@pytest.fixture(scope="session")
def released_fixture(fixture_repo, tmp_path_factory):
    """A course directory with the fixture assignment released (do not modify: copy it)."""
    from autograder.grading.course_dir import CourseDir
    from autograder.grading.release import release

    course = CourseDir(tmp_path_factory.mktemp("released") / "course")
    release(fixture_repo.notebooks, course, say=lambda _: None)
    return course


@pytest.fixture
def course(released_fixture, tmp_path):
    """A fresh copy of the released fixture course."""
    from autograder.grading.course_dir import CourseDir

    shutil.copytree(released_fixture.root, tmp_path / "course")
    return CourseDir(tmp_path / "course")


@pytest.fixture
def release_path(course):
    return course.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


@pytest.fixture
def samples(fixture_repo, course, release_path):
    """Perfect, untouched, wrong-version and generic broken samples of the fixture."""
    from autograder.grading import submissions

    broken = submissions.broken_for(ASSIGNMENT, fixture_repo.source, release_path)
    return submissions.make_samples(fixture_repo.source, release_path, wrong_versions(), broken)


def subprocess_env(*extra: Path) -> dict:
    """The environment of a `python -m autograder.cli` subprocess: the repo importable."""
    root = Path(__file__).resolve().parents[3]
    env = dict(os.environ)
    paths = [str(root), *map(str, extra), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.fixture
def cli_env(fixture_repo):
    return subprocess_env(fixture_repo.modules)


def _fastest_of_five(function, text) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="session")
def growth():
    """`growth(function, small, large)`: how many times longer `function` takes on `large`
    than on `small` (the fastest of five runs each): a ratio, not a time limit."""

    def ratio(function, small, large) -> float:
        return _fastest_of_five(function, large) / _fastest_of_five(function, small)

    return ratio


# --- a graded class, filled through nbgrader's Gradebook API -----------------------------------

HOSTILE_ID = '"><img src=x onerror=alert(1)><script>alert(2)</script>=HYPERLINK("http://x")'
HOSTILE_TEXT = '=HYPERLINK("http://x")"><img src=x onerror=alert(3)><script>alert(4)</script>'


def add_graded(course, student, scores, *, meta=None, outputs=None, record=None, manual=()):
    """A submission of `student` in the gradebook with `scores` (grade id -> points), and, for
    a safe id, its autograded notebook (release + `outputs` per grade id, `meta` as the
    grader's `cnn_course` metadata) and the grader's completion `record`."""
    with course.gradebook() as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's add_submission makes SQLAlchemy warn
        gb.update_or_create_student(student)
        submission = gb.add_submission(ASSIGNMENT, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = scores.get(grade.name)
                grade.needs_manual_grade = grade.name in manual
        gb.db.commit()
    from autograder.grading import worker

    folder = course.autograded_dir(student, ASSIGNMENT)
    if meta is None and outputs is None and record is None:
        return
    folder.mkdir(parents=True)
    nb = nbformat.read(course.release / ASSIGNMENT / "arith.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if outputs and grade_id in outputs:
            cell.outputs = outputs[grade_id]
    nb.metadata["cnn_course"] = meta or {}
    nbformat.write(nb, folder / "arith.ipynb")
    if record is not None:
        (folder / worker.COMPLETE).write_text(json.dumps(record))


def failure(text, ename="CheckFailed"):
    return [new_output("error", ename=ename, evalue=text, traceback=[text])]


def graded_record(seconds, status="graded", reason=""):
    return {"status": status, "seconds": seconds, "reason": reason}


@pytest.fixture
def class_course(course):
    """The fixture course with a class graded (through nbgrader's Gradebook API, no run): ann
    4/4, bo and cy with a catalogued mistake (cy's read from its check's output), dee withheld
    for review, eve unreadable, a student whose id is hostile HTML and a formula, and zed whose
    notebook's reasons and mistake title are."""
    add_graded(
        course,
        "ann",
        {"test_add": 1, "test_scale": 2, "test_counter": 1},
        meta={"mistakes": {}},
        record=graded_record(3.5),
    )
    add_graded(
        course,
        "bo",
        {"test_add": 0, "test_scale": 1, "test_counter": 1},
        meta={"mistakes": {"test_add": {"id": "subtracts", "title": "a - b instead of a + b"}}},
        record=graded_record(12.25),
    )
    # graded before the grader recorded mistakes: the title is read from its own output
    add_graded(
        course,
        "cy",
        {"test_add": 0, "test_scale": 0, "test_counter": 0},
        meta={},
        outputs={"test_add": failure("add wrong.\n  Likely mistake: a - b instead of a + b. x")},
        record=graded_record(7.0),
    )
    add_graded(
        course,
        "dee",
        {"test_add": 0, "test_scale": 0, "test_counter": 0},
        meta={"findings": ["cell 3, line 1: imports os"], "mistakes": {}},
        record=graded_record(1.0),
        manual=("test_add", "test_scale", "test_counter"),
    )
    add_graded(
        course,
        "eve",
        {"test_add": 0, "test_scale": 0, "test_counter": 0},
        record=graded_record(0.5, "unreadable", "arith.ipynb cannot be graded: invalid JSON"),
    )
    add_graded(
        course, HOSTILE_ID, {"test_add": 1, "test_scale": 2, "test_counter": 0}, manual=["test_add"]
    )
    add_graded(
        course,
        "zed",
        {"test_add": 0, "test_scale": 2, "test_counter": 1},
        meta={"findings": [HOSTILE_TEXT], "stopped": HOSTILE_TEXT},
        outputs={"test_add": failure(f"add wrong.\n  Likely mistake: {HOSTILE_TEXT}. x")},
        record=graded_record(2.0),
    )
    return course
