"""Hostile submissions of lesson 02, graded with `cnn-course grade` as an instructor would.

Honest students are graded first; then every cheat and attack of lesson 02's `attacks.py`
(and a notebook that sleeps past the notebook time limit). Each cheat must score what its
notebook scores without the cheat lines (0), each attack what its recipe says; the course
directory, the honest students' files and grades, and the installed packages must be byte for
byte as they were; nothing may reach a server on the grader's loopback.
"""

import hashlib
import http.server
import json
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest

from autograder import lessons
from autograder.grading.config import Settings
from autograder.grading.course_dir import CourseDir
from autograder.grading.grade import grade
from autograder.grading.release import release
from autograder.grading.submissions import make_samples, slow_sample
from autograder.sandbox.policy import unavailable_reason

attacks = lessons.module("02_convolution", "attacks")
hostile_samples = attacks.hostile_samples

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(unavailable_reason() is not None, reason="needs bubblewrap"),
]

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = "02_convolution"
HONEST = ("perfect", "untouched")
RUN_LOCAL = ("logs", "grades", "backups")  # what a grading run itself adds
REFUSED = ("*", '=HYPERLINK("evil")', "\x1b]52;c;aGk=\x07")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path, skip=()) -> dict[str, str]:
    """{relative path: sha256} of every file below `folder`, except below `skip` prefixes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and "__pycache__" not in rel and not rel.startswith(tuple(skip)):
            found[rel] = _digest(path)
    return found


def course_files(course: CourseDir, students) -> dict[str, str]:
    """The course directory's files, minus the gradebook, what runs add, and the files of
    `students` (the hostile ones, whose own folders grading writes)."""
    skip = [*RUN_LOCAL, "gradebook.db"]
    skip += [f"{kind}/{s}/" for s in students for kind in ("submitted", "autograded", "feedback")]
    return tree(course.root, skip)


def honest_grades(course: CourseDir) -> dict:
    with course.gradebook() as gb:
        return {
            (sub.student.id, grade.name): (grade.auto_score, grade.manual_score)
            for sub in gb.find_assignment(ASSIGNMENT).submissions
            if sub.student.id in HONEST
            for notebook in sub.notebooks
            for grade in notebook.grades
        }


def installed() -> dict[str, str]:
    """The course packages' files and the environment's package listing."""
    import autograder
    import course

    state = {}
    for package in (autograder, course):
        folder = Path(package.__file__).parent
        state |= {f"{folder.name}/{k}": v for k, v in tree(folder).items()}
    site = Path(sys.prefix) / "lib"
    state |= {p.as_posix(): str(p.stat().st_mtime_ns) for p in site.glob("python*/site-packages/*")}
    return state


class Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802 - the name http.server calls
        Counter.hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    course = CourseDir(tmp / "course")
    release(ROOT / "notebooks", course, [ASSIGNMENT], Settings(cell_timeout=60), lambda _: None)
    source = course.source / ASSIGNMENT / "convolution.ipynb"
    released = course.release / ASSIGNMENT / "convolution.ipynb"
    make_samples(source, released).write(tmp / "honest")
    grade(course, tmp / "honest", jobs=2, say=lambda _: None)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    samples = hostile_samples(source, released, course.root, "perfect", server.server_port)
    for sample in samples:
        sample.write(tmp / "hostile", ASSIGNMENT)
    # folder names that are patterns or formulas: refused, unread, next to the others
    perfect = tmp / "honest" / "perfect" / ASSIGNMENT
    for name in REFUSED:
        shutil.copytree(perfect, tmp / "hostile" / name / ASSIGNMENT)
    slow = slow_sample(source, released)
    slow.write(tmp / "slow", ASSIGNMENT)
    hostile_students = [s.student for s in [*samples, slow]]

    before = course_files(course, hostile_students), honest_grades(course), installed()
    lines = []
    run = grade(course, tmp / "hostile", jobs=2, say=lines.append)
    after = course_files(course, hostile_students), honest_grades(course), installed()
    # the instructor's own --notebook-timeout is written to the configuration: after `after`
    slow_run = grade(course, tmp / "slow", jobs=1, notebook_timeout=30, say=lines.append)
    server.shutdown()
    outcomes = {o.student: o for o in [*run.outcomes, *slow_run.outcomes]}
    points = _points(course)
    expected = {s.student: s.expected_score(points) for s in [*samples, slow]}
    return {
        "course": course,
        "outcomes": outcomes,
        "expected": expected,
        "before": before,
        "after": after,
        "lines": lines,
        "run": run,
    }


def _points(course: CourseDir) -> dict[str, float]:
    with course.gradebook() as gb:
        notebook = gb.find_assignment(ASSIGNMENT).notebooks[0]
        return {cell.name: cell.max_score for cell in notebook.grade_cells}


def test_no_cheat_or_attack_scores_more_than_without_its_lines(graded):
    got = {student: o.score for student, o in graded["outcomes"].items()}
    assert got == graded["expected"]
    cheats = [s for s in got if s.startswith("cheat-")]
    assert len(cheats) >= 14 and all(got[s] == 0 for s in cheats)


def test_course_directory_and_honest_students_are_untouched(graded):
    files_before, grades_before, _ = graded["before"]
    files_after, grades_after, _ = graded["after"]
    assert files_after == files_before
    assert grades_after == grades_before


def test_installed_packages_are_untouched(graded):
    assert graded["after"][2] == graded["before"][2]


def test_cheats_that_reach_into_the_grader_are_flagged_for_review(graded):
    outcomes = graded["outcomes"]
    for student in (
        "cheat-fake-checks",
        "cheat-patch-checks",
        "cheat-guard-off",
        "cheat-thread",
        "cheat-raw-entry-points",
        "cheat-dynamic-solutions",
        "cheat-obfuscated-exec",
        "cheat-fake-agent",
        "cheat-forged-markers",
        "cheat-lax-agent",
        "cheat-grader-answers",
        "attack-kill-parent",
        "attack-fork-bomb",
    ):
        assert outcomes[student].flags, student
    assert any("sys.setprofile" in f for f in outcomes["cheat-guard-off"].flags)
    assert any("start a thread" in f for f in outcomes["cheat-thread"].flags)
    assert any("uses getattr" in f for f in outcomes["cheat-lax-agent"].flags)
    writes = outcomes["attack-write-course"].flags
    assert any("gradebook.db, outside its folder" in f for f in writes), writes


def test_nothing_active_reaches_the_instructors_browser(graded):
    import nbformat

    course = graded["course"]
    for student in ("attack-active-output", "attack-active-markdown"):
        path = course.autograded_dir(student, ASSIGNMENT) / "convolution.ipynb"
        nb = nbformat.read(path, as_version=4)
        shown = [
            json.dumps(o.get("data", {}))
            for cell in nb.cells
            if cell.cell_type == "code"
            for o in cell.outputs
        ]
        shown += [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
        page = (course.feedback_dir(student, ASSIGNMENT) / "convolution.html").read_text()
        for text in [*shown, page]:  # the text may be shown, escaped, but no tag of it is live
            assert not re.search(r"<script>document|<img[^>]*onerror", text), student


def _outputs(graded, student) -> list[str]:
    import nbformat

    path = graded["course"].autograded_dir(student, ASSIGNMENT) / "convolution.ipynb"
    nb = nbformat.read(path, as_version=4)
    return [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_limits_hold(graded):
    outcomes = graded["outcomes"]
    assert any("memory limit of 4096 MB" in n for n in outcomes["attack-memory-bomb"].notes)
    assert any("No space left on device" in n for n in outcomes["attack-fill-disk"].notes)
    slow = outcomes["attack-slow"]
    assert any("time limit of 30 s was reached" in n for n in slow.notes), slow.notes
    assert slow.seconds < 30 + 45
    unkillable = outcomes["attack-unkillable"]
    assert any("the kernel" in n for n in unkillable.notes), unkillable.notes
    assert Counter.hits == 0  # the loopback server was never reached
    assert any("blocked:" in line for line in _outputs(graded, "attack-network"))


def test_folder_names_that_are_patterns_or_formulas_are_refused(graded):
    """A folder named `*` made nbgrader regrade every student (their autograded notebooks and
    completion markers are in the course files compared above); formulas reached the CSV."""
    lines = graded["lines"]
    refused = [line for line in lines if line.startswith("refused '")]
    assert len(refused) == len(REFUSED)
    summary = lines.index("refused (nothing of them was read or graded):")
    assert len([line for line in lines[summary:] if "a student id" in line]) == len(REFUSED)
    assert not any("\x1b" in line or "\x07" in line for line in graded["lines"])
    text = graded["run"].csv_path.read_text()
    assert "HYPERLINK" not in text and "\x1b" not in text
    with graded["course"].gradebook() as gb:
        assert not {s.id for s in gb.students} & set(REFUSED)
