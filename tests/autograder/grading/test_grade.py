"""Grading runs on the fixture assignment (real nbgrader, real kernels, ~1 s per submission)."""

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading import submissions, worker
from autograder.grading.course_dir import CourseDir
from autograder.grading.errors import CourseError
from autograder.grading.grade import grade

ASSIGNMENT = "01_fixture"


@pytest.fixture(scope="module")
def graded(released_fixture, fixture_repo, tmp_path_factory):
    """The fixture's samples, graded once with two workers: (course, run, lines, samples)."""
    tmp = tmp_path_factory.mktemp("graded")
    course = CourseDir(tmp / "course")
    shutil.copytree(released_fixture.root, course.root)
    release_path = course.release / ASSIGNMENT / "arith.ipynb"
    broken = submissions.broken_for(ASSIGNMENT, fixture_repo.source, release_path)
    samples = submissions.make_samples(
        fixture_repo.source, release_path, fixture_repo.wrong_versions, broken
    )
    samples.write(tmp / "submissions")
    lines = []
    run = grade(course, tmp / "submissions", jobs=2, say=lines.append)
    return course, run, lines, samples


def test_every_sample_gets_its_expected_score(graded):
    _, run, _, samples = graded
    got = {o.student: o.score for o in run.outcomes}
    assert got == samples.expected()
    assert {o.max_score for o in run.outcomes} == {4.0}


def test_progress_is_one_line_per_submission(graded):
    _, run, lines, _ = graded
    progress = [line for line in lines if line.startswith("[")]
    assert len(progress) == len(run.outcomes) == 8
    assert any(line.startswith("[") and " perfect 01_fixture 4/4 pts " in line for line in progress)
    assert progress[-1].startswith("[8/8] ")


def test_lost_points_have_reasons(graded):
    _, run, _, _ = graded
    untouched = run.outcome("untouched")
    reasons = {c.grade_id: c.reason for c in untouched.cells}
    assert reasons["test_add"] == "CheckFailed: add is not implemented yet."
    mistake = run.outcome("mistake-add_minus-add")
    assert [c.grade_id for c in mistake.cells if c.score == 0] == ["test_add"]
    assert mistake.cells[0].reason.startswith("CheckFailed: add(")


def test_bad_submissions_get_a_summary_line(graded):
    _, run, lines, _ = graded
    text = "\n".join(lines)
    assert run.outcome("broken-invalid-json").status == "unreadable"
    assert (
        "broken-invalid-json 01_fixture 0/4 (unreadable): arith.ipynb cannot be graded: "
        "invalid JSON" in text
    )
    assert (
        "broken-deleted-test-cell 01_fixture 4/4: cell 4 (test_add) was deleted; nbgrader "
        "put it back and graded it" in text
    )
    assert "notebook was named 'copy of notebook.ipynb'; graded as arith.ipynb" in text


def test_grades_csv(graded):
    course, run, _, samples = graded
    assert run.csv_path.parent == course.grades
    with run.csv_path.open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == [
        "student",
        "assignment",
        "notebook",
        "test_add",
        "test_scale",
        "test_counter",
        "total",
        "max",
        "review",
        "note",
    ]
    assert {s: float(r["total"]) for s, r in rows.items()} == samples.expected()
    assert rows["mistake-step_twice-counter-step"]["test_counter"] == "0"
    assert rows["perfect"]["max"] == "4"
    assert rows["broken-not-a-notebook"]["note"].startswith("unreadable; arith.ipynb cannot be")


def test_feedback_pages(graded):
    course, run, _, _ = graded
    for outcome in run.outcomes:
        page = course.feedback_dir(outcome.student, ASSIGNMENT) / "arith.html"
        assert page.is_file(), outcome.student
    unreadable = (course.feedback_dir("broken-invalid-json", ASSIGNMENT) / "arith.html").read_text()
    assert "0 / 4 points" in unreadable and "invalid JSON" in unreadable
    nbgrader_page = course.feedback_dir("mistake-add_minus-add", ASSIGNMENT) / "arith.html"
    assert "returned" in nbgrader_page.read_text()


def test_feedback_math_is_mathml_and_loads_nothing(graded):
    """The math renders offline: MathML written in the page, no MathJax (nor any other
    script) fetched from the network."""
    course, _, _, _ = graded
    page = (course.feedback_dir("perfect", ASSIGNMENT) / "arith.html").read_text()
    assert page.count("<math ") == 2 and 'display="block"' in page
    assert "$$" not in page and "$a + b$" not in page
    assert "<script src=" not in page and "MathJax.Hub" not in page


def test_stock_generate_feedback_does_the_same(graded, tmp_path):
    """`nbgrader generate_feedback` in the course directory, with nothing but its
    nbgrader_config.py, writes the same offline math."""
    import subprocess
    import sys

    course, _, _, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy)
    shutil.rmtree(copy / "feedback")
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--student", "perfect"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    page = copy / "feedback" / "perfect" / ASSIGNMENT / "arith.html"
    assert page.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    text = page.read_text()
    assert text.count("<math ") == 2 and "<script src=" not in text


def test_gradebook_is_nbgraders(graded):
    course, _, _, samples = graded
    with course.gradebook() as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}
    assert scores == samples.expected()


def test_second_run_skips_everyone_and_changes_nothing(graded, tmp_path):
    course, first, _, _ = graded
    before = {p: p.stat().st_mtime_ns for p in course.autograded.rglob("*")}
    lines = []
    submitted_from = course.root.parent / "submissions"
    run = grade(course, submitted_from, jobs=2, say=lines.append)
    assert run.outcomes == []
    assert len(run.skipped) == 8
    assert "perfect already graded for 01_fixture; pass --regrade to grade again" in lines
    assert "nothing was graded; the gradebook, grades and feedback are unchanged" in lines
    assert len(list(course.grades.iterdir())) == 1
    assert {p: p.stat().st_mtime_ns for p in course.autograded.rglob("*")} == before
    assert not course.backups.exists()


def test_regrade_backs_up_grades_and_the_changed_submission(graded, tmp_path):
    course = CourseDir(tmp_path / "course")
    shutil.copytree(graded[0].root, course.root)
    new, earlier = tmp_path / "new", graded[0].root.parent / "submissions"
    shutil.copytree(earlier / "perfect", new / "perfect")
    # "untouched" now hands in a wrong version
    shutil.copytree(earlier / "mistake-add_minus-add", new / "untouched")
    lines = []
    run = grade(course, new, regrade=True, jobs=2, say=lines.append)
    assert {o.student: o.score for o in run.outcomes} == {"perfect": 4.0, "untouched": 3.0}
    (backup,) = course.backups.iterdir()
    assert (backup / "gradebook.db").is_file()
    assert (backup / "autograded/perfect/01_fixture/arith.ipynb").is_file()
    assert (backup / "submitted/untouched/01_fixture/arith.ipynb").is_file()
    text = "\n".join(lines)
    assert "gradebook backed up to" in text
    assert "regrading 2 submissions: the earlier autograded notebooks and feedback are kept" in text
    assert (
        "untouched 01_fixture: the submission differs from the one in submitted/; the "
        "earlier one is kept in" in text
    )
    with course.gradebook() as gb:
        assert gb.find_submission(ASSIGNMENT, "untouched").score == 3.0


def test_user_errors(graded, tmp_path):
    course, run, _, _ = graded
    with pytest.raises(CourseError, match="already exists; pass another --csv"):
        grade(course, tmp_path, csv_path=run.csv_path)
    with pytest.raises(CourseError, match="unknown assignment '09_x'.*released: 01_fixture"):
        grade(course, tmp_path, assignment="09_x")
    with pytest.raises(CourseError, match="not a built course directory"):
        (tmp_path / "empty").mkdir()
        grade(CourseDir(tmp_path / "empty"), tmp_path)
    with pytest.raises(CourseError, match="does not exist; run `cnn-course release"):
        grade(CourseDir(tmp_path / "nope"), tmp_path)
    with pytest.raises(CourseError, match="no submissions found"):
        grade(course, tmp_path / "empty")


def test_a_submission_that_imports_the_solutions_is_withheld(
    course, fixture_repo, tmp_path, monkeypatch
):
    """Even where `solutions` is importable (here via PYTHONPATH), a submission cannot use it:
    the grader finds the import before running anything and withholds the points."""
    repo = Path(__file__).resolve().parents[3]
    assert (repo / "solutions" / "__init__.py").is_file()
    monkeypatch.setenv("PYTHONPATH", str(repo))
    release_path = course.release / ASSIGNMENT / "arith.ipynb"
    solved = submissions.perfect(
        nbformat.read(fixture_repo.source, as_version=4),
        nbformat.read(release_path, as_version=4),
    )
    cell = submissions.defining_cell(solved, "add")
    cell.source = "from solutions.mistakes import WrongVersion\n" + cell.source
    submissions.Sample("cheater", "broken", "arith.ipynb", solved).write(
        tmp_path / "subs", ASSIGNMENT
    )
    run = grade(course, tmp_path / "subs", jobs=1, say=lambda _: None)
    (outcome,) = run.outcomes
    assert outcome.score == 0.0
    # found twice: by reading the code, and by the witness when the import was tried
    assert outcome.flags == [
        "withheld for review: cell 3, line 1: imports solutions.mistakes",
        "tampering: cell 3: the code did import solutions.mistakes (cell 3, line 1)",
    ]
    with course.gradebook() as gb:
        grades = gb.find_submission(ASSIGNMENT, "cheater").notebooks[0].grades
        assert all(grade.needs_manual_grade for grade in grades)
    # A later run that grades another student lists the cheater too, still withheld.
    honest = submissions.perfect(
        nbformat.read(fixture_repo.source, as_version=4),
        nbformat.read(release_path, as_version=4),
    )
    submissions.Sample("honest", "perfect", "arith.ipynb", honest).write(
        tmp_path / "later", ASSIGNMENT
    )
    later = grade(course, tmp_path / "later", jobs=1, say=lambda _: None)
    with open(later.csv_path, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["cheater"]["review"].startswith("withheld for review: cell 3, line 1")
    assert rows["honest"]["review"] == ""


def test_students_are_registered_before_the_workers_start(course):
    """Two workers grading a new student's two assignments at once must not both add the
    student (the second's submission failed on the gradebook's unique id)."""
    from autograder.grading.grade import register_students

    with course.gradebook() as gb:
        gb.add_student("named", first_name="Ada", last_name="Lovelace")
    register_students(course, ["named", "new", "new"])
    register_students(course, ["new"])
    with course.gradebook() as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    assert names == {"named": ("Ada", "Lovelace"), "new": (None, None)}


def test_refused_folders_touch_nothing_and_leave_nothing_to_grade(graded, tmp_path):
    """A folder named `*` once made nbgrader regrade every student; `=...` reached the CSV."""
    course = CourseDir(tmp_path / "course")
    shutil.copytree(graded[0].root, course.root)
    before = {p: p.stat().st_mtime_ns for p in course.root.rglob("*")}
    perfect = graded[0].root.parent / "submissions" / "perfect"
    for student in ("*", "=HYPERLINK(x)", "\x1b]52;c;aGk=\x07"):
        shutil.copytree(perfect, tmp_path / "subs" / student)
    lines = []
    with pytest.raises(CourseError, match="could be graded: 3 folders or files refused"):
        grade(course, tmp_path / "subs", jobs=2, say=lines.append)
    assert len(lines) == 3 and all(line.startswith("refused '") for line in lines)
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert {p: p.stat().st_mtime_ns for p in course.root.rglob("*")} == before


def test_the_summary_lists_what_was_refused(graded):
    from autograder.grading.grade import GradeRun, summary

    course, run, _, _ = graded
    refused = "refused '*': a student id (the folder's name) must be ...; nothing of it was read"
    lines = summary(GradeRun(outcomes=run.outcomes, skipped=[refused, "x: other"]), course, 2)
    assert "refused (nothing of them was read or graded):" in lines
    assert "  '*': a student id (the folder's name) must be ...; nothing of it was read" in lines


def test_the_class_report_reads_what_the_run_recorded(graded, tmp_path):
    """The grader records the mistake a failed check named, how long each submission took
    and why one was not graded; the class report counts them."""
    from autograder.grading.report_class import class_report

    course, run, _, samples = graded
    autograded = course.autograded_dir("mistake-add_minus-add", ASSIGNMENT) / "arith.ipynb"
    found = nbformat.read(autograded, as_version=4).metadata["cnn_course"]
    assert found["mistakes"] == {"test_add": {"id": "subtracts", "title": "a - b instead of a + b"}}
    (lesson,) = class_report(course)
    assert {s.student: s.score for s in lesson.submissions} == samples.expected()
    (mistake,) = lesson.mistakes
    assert (mistake.title, mistake.checks) == ("a - b instead of a + b", ["test_add"])
    assert mistake.students == ["mistake-add_minus-add"]
    seconds = {o.student: o.seconds for o in run.outcomes}
    assert {s.student: s.seconds for s in lesson.submissions if s.status == "graded"} == {
        student: pytest.approx(seconds[student], abs=0.5)
        for student in seconds
        if run.outcome(student).status == "graded"
    }
    failed = {s.student: (s.status, s.reason) for s in lesson.failed}
    assert failed["broken-invalid-json"][0] == "unreadable"
    assert "invalid JSON" in failed["broken-invalid-json"][1]
    add = lesson.checks[0]
    assert (add.grade_id, add.full + add.partial + add.zero) == ("test_add", len(run.outcomes))


def gradebook_rows(course: CourseDir) -> dict:
    """Every grade, comment, late penalty and time stamp of the fixture's submissions."""
    rows = {}
    with course.gradebook() as gb:
        for sub in gb.find_assignment(ASSIGNMENT).submissions:
            student = sub.student.id
            rows[(student, "timestamp")] = sub.timestamp
            for nb in sub.notebooks:
                rows[(student, nb.name, "late")] = nb.late_submission_penalty
                for g in nb.grades:
                    rows[(student, nb.name, g.name)] = (
                        g.auto_score,
                        g.max_score,
                        g.needs_manual_grade,
                        g.manual_score,
                    )
                for c in nb.comments:
                    rows[(student, nb.name, "comment", c.name)] = (c.auto_comment, c.manual_comment)
    return rows


def _dask(*args, env) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "dask"), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.e2e
def test_a_dask_cluster_with_a_worker_killed_grades_as_one_machine(
    graded, released_fixture, tmp_path, cli_env
):
    """A scheduler and two workers started by Dask's own commands, one worker killed after the
    first result: every submission is graded once, the gradebook is the one-machine run's.

    Workers run without a nanny: a killed worker stays dead, so its task must be graded by the
    other one (a nanny would restart it in place, and the run would not show that)."""
    import psutil

    one_machine, _, _, samples = graded
    course = CourseDir(tmp_path / "course")
    shutil.copytree(released_fixture.root, course.root)
    scheduler_file = tmp_path / "scheduler.json"
    local = ["--host", "127.0.0.1", "--no-dashboard"]
    processes = [_dask("scheduler", "--scheduler-file", str(scheduler_file), *local, env=cli_env)]
    try:
        for _ in range(2):
            processes.append(
                _dask(
                    "worker",
                    *("--scheduler-file", str(scheduler_file), *local),
                    *("--nworkers", "1", "--nthreads", "1", "--no-nanny"),
                    env=cli_env,
                )
            )
        workers = processes[1:]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _workers_joined(scheduler_file, 2):
            time.sleep(0.5)
        killed, lines = [], []

        def say(line: str) -> None:
            lines.append(line)
            started = any(line.startswith("grading ") for line in lines)
            if started and line.startswith("[") and not killed:
                busy = [w for w in workers if psutil.Process(w.pid).children(recursive=True)]
                victim = (busy or workers)[0]
                victim.kill()
                killed.append(victim)

        run = grade(
            course, one_machine.root.parent / "submissions", say=say, scheduler=str(scheduler_file)
        )
        assert killed and killed[0].wait(timeout=60) is not None
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=60)
    graded_students = sorted(o.student for o in run.outcomes)
    assert graded_students == sorted(samples.expected())  # each once, none lost
    assert {o.student: o.score for o in run.outcomes} == samples.expected()
    assert gradebook_rows(course) == gradebook_rows(one_machine)
    for student in graded_students:
        assert worker.is_complete(course, ASSIGNMENT, student)
        assert (course.feedback_dir(student, ASSIGNMENT) / "arith.html").is_file()
    autograded = course.autograded_dir("perfect", ASSIGNMENT) / "arith.ipynb"
    assert autograded.read_bytes() != b"" and nbformat.read(autograded, as_version=4).cells
    assert any("on the Dask cluster at tcp://127.0.0.1:" in line for line in lines)


def _workers_joined(scheduler_file: Path, count: int) -> bool:
    from distributed import Client

    if not scheduler_file.is_file():
        return False
    try:
        with Client(scheduler_file=str(scheduler_file), timeout="10s") as client:
            return len(client.scheduler_info()["workers"]) >= count
    except (OSError, TimeoutError, ValueError):
        return False
