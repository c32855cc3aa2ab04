"""The cluster's coordinator and task, without a Dask process: refusals and failures."""

import pytest

from autograder.grading import cluster, worker
from autograder.grading.errors import CourseError
from autograder.grading.grade import grade, sandbox_refusal
from autograder.grading.intake import Submission
from autograder.grading.returned import Expected

ASSIGNMENT = "01_fixture"


def test_a_worker_without_the_sandbox_refuses_in_grades_words(monkeypatch):
    import autograder.sandbox.policy as policy

    monkeypatch.setattr(policy, "unavailable_reason", lambda: "bwrap is not installed")
    monkeypatch.setattr(cluster, "_host", lambda: "node7")
    with pytest.raises(cluster.SandboxRefused) as refused:
        cluster.grade_task(b"not even a kit", {"isolate": True})
    assert str(refused.value) == (
        f"the Dask worker on node7 {sandbox_refusal('bwrap is not installed')}"
    )
    assert "refuses to go on without the sandbox" in str(refused.value)


class Done:
    """A finished future: its result, or the exception it raises."""

    def __init__(self, value):
        self.value = value

    def result(self):
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


@pytest.fixture
def sub():
    return Submission("ann", ASSIGNMENT, None, {"arith.ipynb": b"{}"})


def test_the_run_stops_in_one_line_on_a_refusal(course, sub):
    refusal = cluster.SandboxRefused("the Dask worker on node7 cannot sandbox the submissions: x")
    with pytest.raises(CourseError, match="^the Dask worker on node7 cannot sandbox"):
        cluster.settle(course, sub, Done(refusal), Expected.of(course, ASSIGNMENT))


def test_a_task_that_failed_or_lied_is_left_for_a_rerun(course, sub):
    expected = Expected.of(course, ASSIGNMENT)
    crashed = cluster.settle(course, sub, Done(RuntimeError("disk full")), expected)
    assert crashed.notes == ["grading on the cluster failed: RuntimeError: disk full"]
    lied = cluster.settle(course, sub, Done({"status": "graded"}), expected)
    assert lied.notes == ["the worker's result was refused: no completeness flag"]
    assert lied.score == 0.0 and not worker.is_complete(course, ASSIGNMENT, "ann")
    assert not course.autograded_dir("ann", ASSIGNMENT).exists()


def test_a_submission_that_kills_every_worker_is_scored_0_for_good(course, sub):
    from distributed.scheduler import KilledWorker

    outcome = cluster.settle(
        course, sub, Done(KilledWorker("k", "tcp://w", 3)), Expected.of(course, ASSIGNMENT)
    )
    assert outcome.status == "failed" and "died each time" in outcome.notes[0]
    assert worker.is_complete(course, ASSIGNMENT, "ann")


def test_scheduler_errors_are_one_line(course, tmp_path, monkeypatch):
    with pytest.raises(CourseError, match="no scheduler file .*dask scheduler --scheduler-file"):
        cluster.connect(str(tmp_path / "scheduler.json"), None)
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    with pytest.raises(CourseError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        cluster.connect("tcp://127.0.0.1:9", None)
    with pytest.raises(CourseError, match="--jobs sets the worker processes of this machine"):
        grade(course, tmp_path, jobs=2, scheduler="tcp://127.0.0.1:9")
