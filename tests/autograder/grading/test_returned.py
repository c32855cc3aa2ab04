"""What a cluster's worker returns is checked before anything is written, then recorded as
a one-machine run records it."""

import copy

import nbformat
import pytest

from autograder.grading import returned, worker
from autograder.grading.feedback import CSP
from autograder.grading.returned import Expected, check, record

ASSIGNMENT = "01_fixture"
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'>"
    f'<meta content="{CSP}" http-equiv="Content-Security-Policy"/>'
    "<style>body {}</style></head><body><p>3 / 4</p></body></html>"
).encode()


@pytest.fixture
def expected(course):
    return Expected.of(course, ASSIGNMENT)


@pytest.fixture
def result(release_path, expected):
    """A worker's result for a submission scoring 1 + 2 + 0 of 4 points."""
    (commented,) = expected.commented.values()
    return {
        "status": "graded",
        "complete": True,
        "notes": [],
        "grades": {
            "arith": {
                "grades": {
                    "test_add": [1.0, False],
                    "test_scale": [2, False],
                    "test_counter": [0.0, False],
                },
                "comments": {cell: None for cell in commented},
            }
        },
        "autograded": {"arith.ipynb": release_path.read_bytes()},
        "feedback": {"arith.html": PAGE},
        "log": "==== ann 01_fixture\n[INFO] \x1b]52;c;aGk=\x07 done\n",
        "seconds": 2.5,
    }


def test_a_good_result_passes(result, expected):
    got = check(result, expected)
    assert got.grades["arith"]["test_scale"] == (2.0, False)
    assert set(got.notebooks) == {"arith.ipynb"} and got.feedback == {"arith.html": PAGE}
    assert "\x1b" not in got.log and "\\x1b]52" in got.log


def _with(result, path, value):
    bad = copy.deepcopy(result)
    *parents, last = path
    target = bad
    for key in parents:
        target = target[key]
    target[last] = value
    return bad


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("status",), "great", "unknown status"),
        (("seconds",), float("nan"), "not a time"),
        (("autograded", "../arith.ipynb"), b"{}", "unexpected autograded file"),
        (("autograded", "other.ipynb"), b"{}", "unexpected autograded file"),
        (("feedback", "arith.ipynb"), PAGE, "unexpected feedback file"),
        (("autograded", "arith.ipynb"), b'{"cells": ', "invalid JSON"),
        (("autograded", "arith.ipynb"), "text", "is not bytes"),
        (("feedback", "arith.html"), PAGE.replace(b"Content-Security", b"X"), "Content-Security"),
        (("feedback", "arith.html"), PAGE + b"<SCRIPT>alert(1)</SCRIPT>", "holds a script"),
        (("grades", "arith", "grades", "test_add"), [1.5, False], "not within 0..1"),
        (("grades", "arith", "grades", "test_add"), [-1, False], "not within 0..1"),
        (("grades", "arith", "grades", "test_add"), [True, False], "not a number"),
        (("grades", "arith", "grades", "test_add"), [1.0, "no"], "not a bool"),
        (("grades", "arith", "grades", "test_other"), [0.0, False], "other cells"),
        (("grades", "other"), {"grades": {}, "comments": {}}, "not those of the notebooks"),
    ],
)
def test_a_bad_result_is_refused_saying_why(result, expected, path, value, words):
    with pytest.raises(ValueError, match=words):
        check(_with(result, path, value), expected)


def test_files_over_the_cap_are_refused(result, expected, monkeypatch):
    monkeypatch.setattr(returned, "MAX_FILE_BYTES", len(PAGE) - 1)
    with pytest.raises(ValueError, match="over the size cap"):
        check(result, expected)


def _grades(course, student):
    with course.gradebook() as gb:
        (notebook,) = gb.find_submission(ASSIGNMENT, student).notebooks
        return {g.name: (g.auto_score, g.needs_manual_grade) for g in notebook.grades}


@pytest.mark.filterwarnings("ignore:Object of type")
def test_a_result_is_recorded_as_autograde_records_it(course, result, expected):
    with course.gradebook() as gb:  # an earlier manual score: SaveAutoGrades asks for a look
        gb.add_student("ann")
        submission = gb.add_submission(ASSIGNMENT, "ann")
        submission.notebooks[0].grades[0].manual_score = 0.5
        manual = submission.notebooks[0].grades[0].name
        gb.db.commit()
    files = {"arith.ipynb": b"ignored", "timestamp.txt": b"2026-12-01 10:00:00.000000 UTC"}
    outcome = record(course, ASSIGNMENT, "ann", check(result, expected), files)
    auto = {"test_add": 1.0, "test_scale": 2.0, "test_counter": 0.0}
    assert (outcome.status, outcome.max_score) == ("graded", 4.0)
    assert outcome.score == 3.0 - auto[manual] + 0.5  # the manual score stands
    assert outcome.seconds == 2.5
    grades = _grades(course, "ann")
    assert {k: v[0] for k, v in grades.items()} == auto
    # as on one machine: the manual score asks for a look, and the submission is held for review
    assert outcome.flags == [f"needs manual grading: {manual}"]
    assert all(needs for _, needs in grades.values())
    with course.gradebook() as gb:
        assert str(gb.find_submission(ASSIGNMENT, "ann").timestamp).startswith("2026-12-01 10:00")
    folder = course.autograded_dir("ann", ASSIGNMENT)
    assert nbformat.read(folder / "arith.ipynb", as_version=4).cells
    assert (folder / "timestamp.txt").is_file()  # copied next to it, as nbgrader does
    assert (course.feedback_dir("ann", ASSIGNMENT) / "arith.html").read_bytes() == PAGE
    assert worker.is_complete(course, ASSIGNMENT, "ann")


def test_a_failure_is_final_only_when_the_worker_finished_it(course, result, expected):
    failed = dict(result, status="failed", notes=["nbgrader could not grade it: boom"])
    failed["autograded"] = {"NOT_GRADED.txt": b"nbgrader could not grade it: boom\x1b[2J\n"}
    outcome = record(course, ASSIGNMENT, "ann", check(failed, expected), {})
    assert (outcome.status, outcome.score, outcome.notes) == (
        "failed",
        0.0,
        ["nbgrader could not grade it: boom"],
    )
    assert worker.is_complete(course, ASSIGNMENT, "ann")
    text = (course.autograded_dir("ann", ASSIGNMENT) / "NOT_GRADED.txt").read_text()
    assert text == "nbgrader could not grade it: boom\\x1b[2J\n"
    assert "0 / 4 points" in (course.feedback_dir("ann", ASSIGNMENT) / "arith.html").read_text()

    crashed = dict(result, status="failed", complete=False, notes=["grading crashed: X"])
    outcome = record(course, ASSIGNMENT, "bob", check(crashed, expected), {})
    assert outcome.score == 0.0 and not worker.is_complete(course, ASSIGNMENT, "bob")
    assert not course.feedback_dir("bob", ASSIGNMENT).exists()  # a rerun grades it again
