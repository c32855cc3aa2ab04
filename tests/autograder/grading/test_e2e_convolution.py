"""End to end on lesson 02: release, one `cnn-course grade --jobs 2` run over every sample
submission (perfect, untouched, four wrong versions, each broken one), then many small checks,
and stock `nbgrader autograde` on a copy of the course directory for comparison.

The solved notebook's slowest cells take ~7 s alone and several times that with two kernels
side by side on a loaded machine, so the cell time limit is 60 s (the looping submission pays
it twice).
"""

import base64
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from autograder.grading.config import Settings
from autograder.grading.course_dir import CourseDir
from autograder.grading.release import release
from autograder.grading.submissions import broken_for, make_samples

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT, NOTEBOOK = "02_convolution", "convolution"
CELL_TIMEOUT = 60
E2E_MISTAKES = (
    "flipped_kernel-cross_correlate2d",
    "patch_column_major-im2col",
    "bias_missing-Conv2D.call",
    "channels_first-Conv2D.build+Conv2D.call",
)
STOCK_STUDENTS = ("perfect", "untouched", "mistake-bias_missing-conv2d-call")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _cli(*args, cwd=ROOT, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", *map(str, args)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _scores(course: CourseDir) -> dict:
    """{student: {grade id: score}} from the gradebook."""
    with course.gradebook() as gb:
        return {
            sub.student.id: {g.name: g.score for nb in sub.notebooks for g in nb.grades}
            for sub in gb.find_assignment(ASSIGNMENT).submissions
        }


@pytest.fixture(scope="session")
def e2e(tmp_path_factory):
    from solutions.mistakes import wrong_versions

    tmp = tmp_path_factory.mktemp("e2e")
    course = CourseDir(tmp / "course")
    release(ROOT / "notebooks", course, [ASSIGNMENT], Settings(cell_timeout=CELL_TIMEOUT), print)
    shutil.copytree(course.root, tmp / "pristine")
    source = course.source / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    released = course.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    # One mistake per graded piece, one of them across two methods; every mistake is proven
    # caught in tests/autograder/mistakes (in the kernel and across the harness), and
    # `cnn-course demo --all-mistakes` grades them all through nbgrader.
    mistakes = [v for v in wrong_versions(ASSIGNMENT) if v.name in E2E_MISTAKES]
    assert len(mistakes) == len(E2E_MISTAKES)
    samples = make_samples(source, released, mistakes, broken_for(ASSIGNMENT, source, released))
    samples.write(tmp / "submissions")
    first = _cli("grade", tmp / "submissions", "--dir", course.root, "--jobs", 2)
    print(first.stdout, first.stderr)
    snapshot = {p: p.stat().st_mtime_ns for p in course.autograded.rglob("*")}
    second = _cli("grade", tmp / "submissions", "--dir", course.root, "--jobs", 2)
    return SimpleNamespace(
        tmp=tmp,
        course=course,
        samples={s.student: s for s in samples.samples},
        points=samples.points,
        expected=samples.expected(),
        first=first,
        second=second,
        snapshot=snapshot,
        scores=_scores(course),
    )


def _autograded(e2e, student):
    return nbformat.read(
        e2e.course.autograded_dir(student, ASSIGNMENT) / f"{NOTEBOOK}.ipynb", as_version=4
    )


def _feedback(e2e, student) -> str:
    return (e2e.course.feedback_dir(student, ASSIGNMENT) / f"{NOTEBOOK}.html").read_text()


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _summary_line(e2e, student) -> str:
    lines = e2e.first.stdout.splitlines()
    return next(line for line in lines if line.startswith(f"  {student} {ASSIGNMENT} "))


def test_the_run_finishes_and_grades_everyone(e2e):
    assert e2e.first.returncode == 0, e2e.first.stderr
    assert "Traceback" not in e2e.first.stdout + e2e.first.stderr
    total = len(e2e.samples)
    progress = [line for line in e2e.first.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == total
    assert sum(line.startswith(f"[{total}/{total}] ") for line in progress) == 1
    assert set(e2e.scores) == set(e2e.samples)


def test_every_submission_gets_its_expected_total(e2e):
    got = {student: sum(cells.values()) for student, cells in e2e.scores.items()}
    assert got == e2e.expected


def test_perfect_gets_full_marks_and_untouched_zero(e2e):
    assert e2e.scores["perfect"] == e2e.points
    assert set(e2e.scores["untouched"].values()) == {0.0}
    assert sum(e2e.points.values()) == 12


def test_each_mistake_fails_exactly_its_cells(e2e):
    wrong = {}
    for student, sample in e2e.samples.items():
        if sample.kind != "mistake":
            continue
        failed = {cell for cell, score in e2e.scores[student].items() if score == 0}
        partial = {c for c, s in e2e.scores[student].items() if 0 < s < e2e.points[c]}
        if failed != set(sample.breaks) or partial:
            wrong[student] = (sorted(failed), sorted(sample.breaks))
    assert wrong == {}
    assert sum(s.kind == "mistake" for s in e2e.samples.values()) == len(E2E_MISTAKES)


def test_failed_cells_name_the_mistake_in_the_feedback(e2e):
    page = _feedback(e2e, "mistake-flipped_kernel-cross_correlate2d")
    assert "cross_correlate2d does not reproduce the worked example" in page
    assert "flip" in page.lower()


def test_cells_after_the_last_test_cell_are_not_rerun_and_say_so(e2e):
    from autograder.grading.sandboxed_execute import NOT_RERUN, is_test_cell

    nb = _autograded(e2e, "perfect")
    last = max(i for i, cell in enumerate(nb.cells) if is_test_cell(cell))
    tail = [cell for cell in nb.cells[last + 1 :] if cell.cell_type == "code"]
    assert len(tail) >= 3  # the lesson's experiments: a CNN and an MLP trained, feature maps
    assert all([o.get("text") for o in cell.outputs] == [NOT_RERUN] for cell in tail)
    assert nb.metadata["cnn_course"]["not_rerun"] == len(tail)
    seconds = nb.metadata["cnn_course"]["seconds"]
    assert set(seconds) - {"kernel_cpu"} == {"kernel", "cells", "checks", "total"}
    assert seconds.get("kernel_cpu", 1) > 0  # with a cgroup v2: the kernel's CPU time
    assert 0 < seconds["kernel"] + seconds["cells"] + seconds["checks"] <= seconds["total"]
    before = [c for c in nb.cells[:last] if c.cell_type == "code" and not is_test_cell(c)]
    assert not any(NOT_RERUN in str(cell.outputs) for cell in before)
    assert "Not re-run when graded" in _feedback(e2e, "perfect")


@pytest.mark.parametrize(
    ("student", "grade_id", "headline"),
    [
        (
            "mistake-flipped_kernel-cross_correlate2d",
            "test_hand_example",
            "cross_correlate2d does not reproduce the worked example.",
        ),
        (
            "mistake-bias_missing-conv2d-call",
            "test_conv2d_matches_keras",
            "Conv2D does not match keras.layers.Conv2D with the same weights.",
        ),
    ],
)
def test_a_failed_map_check_shows_its_picture_under_the_message(e2e, student, grade_id, headline):
    """The grader draws the picture (a PNG output after the error, which still scores 0); the
    feedback page shows it inline after the message (headline, numbers, the mistake's name),
    the mistake's explanation and the hint behind a fold after it; passing cells draw nothing."""
    outputs = _cell(_autograded(e2e, student), grade_id).outputs
    kinds = [o.output_type for o in outputs]
    assert kinds[-3:] == ["error", "display_data", "display_data"], kinds
    png = base64.b64decode(outputs[-2].data["image/png"])
    assert png.startswith(b"\x89PNG") and len(png) < 50_000
    assert e2e.scores[student][grade_id] == 0
    assert outputs[-3].evalue.startswith(headline)
    page = _feedback(e2e, student)
    image = re.compile(r'<img [^>]*src="data:image/png;base64,').search(page, page.index(headline))
    assert image, "no picture after the message"
    fold = re.compile(r'<details class="cnn-course-fold"><summary[^>]*>Why this mistake')
    assert fold.search(page, image.end())
    assert "Likely mistake: " in page[page.index(headline) : image.start()]
    for grade_id in e2e.points:
        outputs = _cell(_autograded(e2e, "perfect"), grade_id).outputs
        assert all(o.output_type != "display_data" for o in outputs), grade_id


def test_import_error_costs_only_the_cells_that_need_the_function(e2e):
    student = "broken-raises-at-import"
    assert e2e.scores[student]["test_hand_example"] == 0
    assert e2e.scores[student]["test_conv2d_trains"] == 2
    assert "No module named 'my_helpers'" in _summary_line(e2e, student)


def test_endless_loop_times_out_on_its_cell_and_keeps_the_rest(e2e):
    """The loop runs inside a check (stopped at the cell's time limit, the check fails) and in
    an experiment cell (nbclient's own time limit); every other cell keeps its points."""
    student = "broken-infinite-loop"
    assert e2e.scores[student]["test_cross_correlate2d"] == 0
    assert e2e.scores[student]["test_hand_example"] == 1
    cell = _cell(_autograded(e2e, student), "test_cross_correlate2d")
    assert [o.ename for o in cell.outputs if o.output_type == "error"][-1] == "CheckFailed"
    assert "cross_correlate2d was stopped: it ran out of time." in _feedback(e2e, student)
    assert f"per-cell time limit of {CELL_TIMEOUT} s" in _feedback(e2e, student)
    assert "timed out" in _summary_line(e2e, student)


def test_deleted_test_cell_is_restored_and_graded(e2e):
    student = "broken-deleted-test-cell"
    assert e2e.scores[student]["test_im2col"] == 2
    cell = _cell(_autograded(e2e, student), "test_im2col")
    assert "was missing from the submission" in cell.source
    assert "check_im2col(im2col, hidden=True)" in cell.source
    assert "(test_im2col) was deleted; nbgrader put it back and graded it" in _summary_line(
        e2e, student
    )


def test_edited_test_cell_is_restored_so_the_mistake_still_counts(e2e):
    student = "broken-edited-test-cell"
    assert e2e.scores[student]["test_cross_correlate2d"] == 0
    cell = _cell(_autograded(e2e, student), "test_cross_correlate2d")
    assert cell.source.startswith("checks.check_cross_correlate2d(cross_correlate2d)")
    assert "test cell test_cross_correlate2d was edited; nbgrader restored the original" in (
        _summary_line(e2e, student)
    )


def test_nan_output_is_caught(e2e):
    student = "broken-nan-output"
    assert e2e.scores[student]["test_cross_correlate2d"] == 0
    assert "NaN" in _feedback(e2e, student)


def test_megabytes_of_print_are_cut(e2e):
    student = "broken-prints-10mb"
    assert sum(e2e.scores[student].values()) == 12
    nb = _autograded(e2e, student)
    printed = sum(
        len(o.text)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    assert printed < 100_000
    assert "Output truncated" in _feedback(e2e, student)
    assert "printed too much; its output was cut" in _summary_line(e2e, student)


def test_forbidden_op_is_refused_with_the_lessons_words(e2e):
    student = "broken-forbidden-op"
    assert e2e.scores[student]["test_conv2d_matches_keras"] == 0
    assert "calls a built-in convolution (keras.ops.conv)" in _feedback(e2e, student)


@pytest.mark.parametrize("student", ["broken-invalid-json", "broken-not-a-notebook"])
def test_unreadable_submissions_get_zero_with_a_reason(e2e, student):
    assert set(e2e.scores[student].values()) == {0.0}
    assert "(unreadable): convolution.ipynb cannot be graded: " in _summary_line(e2e, student)
    assert "could not be graded" in _feedback(e2e, student)


def test_wrong_file_name_is_graded(e2e):
    assert sum(e2e.scores["broken-wrong-file-name"].values()) == 12
    assert "graded as convolution.ipynb" in _summary_line(e2e, "broken-wrong-file-name")


def test_grades_csv_and_feedback_exist(e2e):
    (path,) = e2e.course.grades.glob("*.csv")
    with path.open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: float(r["total"]) for s, r in rows.items()} == e2e.expected
    assert set(next(iter(rows.values()))) >= set(e2e.points)
    for student in e2e.samples:
        assert (e2e.course.feedback_dir(student, ASSIGNMENT) / f"{NOTEBOOK}.html").is_file()


def test_second_run_changes_nothing_and_says_so(e2e):
    assert e2e.second.returncode == 0, e2e.second.stderr
    out = e2e.second.stdout
    assert "perfect already graded for 02_convolution; pass --regrade to grade again" in out
    assert not [line for line in out.splitlines() if line.startswith("[")]
    assert "nothing was graded; the gradebook, grades and feedback are unchanged" in out
    assert {p: p.stat().st_mtime_ns for p in e2e.course.autograded.rglob("*")} == e2e.snapshot
    assert _scores(e2e.course) == e2e.scores
    assert not e2e.course.backups.exists()


def test_nbgrader_export_works_on_the_course_directory(e2e, tmp_path):
    target = tmp_path / "export.csv"
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", str(target)],
        cwd=e2e.course.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["student_id"] for row in rows} == set(e2e.samples)
    assert {float(r["score"]) for r in rows if r["student_id"] == "perfect"} == {12.0}


def test_stock_nbgrader_autograde_gives_identical_scores(e2e):
    stock = CourseDir(e2e.tmp / "pristine")
    for student in STOCK_STUDENTS:
        shutil.copytree(e2e.tmp / "submissions" / student, stock.submitted / student)
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT],
        cwd=stock.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert _scores(stock) == {s: e2e.scores[s] for s in STOCK_STUDENTS}


def test_code_imported_from_the_solutions_package_earns_nothing(e2e):
    student = "broken-imports-solutions"
    assert e2e.scores[student]["test_hand_example"] == 0
    assert e2e.scores[student]["test_cross_correlate2d"] == 0
    assert "No module named 'solutions.convolution'; 'solutions' is not a package" in (
        _summary_line(e2e, student)
    )
