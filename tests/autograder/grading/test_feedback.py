"""Feedback pages under a time limit (generate_with_limit) and the plain page in their place."""

import os
import time

from autograder.grading.course_dir import CourseDir
from autograder.grading.feedback import CSP, generate_with_limit, write_plain_feedback


def test_a_result_comes_back_from_the_child():
    result = generate_with_limit(lambda: {"success": True, "text": str(os.getpid())}, 60)
    assert result["success"] and not result["timed_out"]
    assert result["text"] != str(os.getpid())  # it ran in another process


def test_a_step_that_never_ends_is_stopped(tmp_path):
    marker = tmp_path / "still-running"

    def forever():
        while True:
            marker.write_text(str(time.monotonic()))
            time.sleep(0.05)

    result = generate_with_limit(forever, 0.5)
    assert result["timed_out"] and not result["success"]
    assert "0.5 s" in result["text"]
    before = marker.read_text()
    time.sleep(0.3)
    assert marker.read_text() == before  # the child is gone


def test_an_exception_in_the_child_is_reported():
    def crash():
        raise RuntimeError("template broke")

    result = generate_with_limit(crash, 60)
    assert not result["success"] and not result["timed_out"]
    assert "RuntimeError: template broke" in result["text"]


def test_a_child_that_dies_is_reported():
    result = generate_with_limit(lambda: os._exit(3), 60)
    assert not result["success"] and "exit code 3" in result["text"]


def test_the_plain_page_is_escaped_and_runs_nothing(tmp_path):
    course = CourseDir(tmp_path)
    pages = write_plain_feedback(
        course, "ada", "02_convolution", ["conv"], "5 / 12 points", "<script>x</script> took long"
    )
    text = pages[0].read_text()
    assert pages[0] == tmp_path / "feedback" / "ada" / "02_convolution" / "conv.html"
    assert "<script>" not in text and "&lt;script&gt;x&lt;/script&gt; took long" in text
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in text
    assert "5 / 12 points" in text


def test_a_worker_whose_feedback_times_out_writes_a_plain_page_and_goes_on(tmp_path, monkeypatch):
    from autograder.grading import worker
    from autograder.grading.outcomes import CellScore, Outcome

    class Course(CourseDir):
        def notebook_names(self, assignment):
            return ["conv"]

    course = Course(tmp_path)
    outcome = Outcome("ada", "02_convolution", cells=[CellScore("a", 2.0, 3.0)])
    monkeypatch.setitem(worker._STATE, "course", course)
    monkeypatch.setitem(worker._STATE, "coursedir", None)
    monkeypatch.setattr(worker, "autograde", lambda *args: {"success": True, "text": ""})
    monkeypatch.setattr(worker, "read_outcome", lambda *args: outcome)
    monkeypatch.setattr(
        worker,
        "generate_feedback",
        lambda *args: {"success": False, "timed_out": True, "text": "not within 300 s"},
    )
    result = worker.grade("02_convolution", "ada")
    assert result.score == 2.0 and result.status == "graded"
    assert any("feedback took over" in note for note in result.notes), result.notes
    page = (tmp_path / "feedback" / "ada" / "02_convolution" / "conv.html").read_text()
    assert "2 / 3 points" in page and "could not be written" in page
    assert worker.is_complete(course, "02_convolution", "ada")
