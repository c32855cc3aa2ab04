"""Autograde submissions in a worker process with nbgrader's own converters.

Each worker process loads the course configuration once and then, for each submission it is
given, runs nbgrader's `Autograde` converter (sanitize, execute in the sandbox, save grades to
the gradebook) and `GenerateFeedback`, in process, as `nbgrader autograde` and
`nbgrader generate_feedback` would. Kernels inherit thread limits from the worker's
environment, so that parallel kernels do not fight over the cores. A worker dies with the
`cnn-course` process that started it, and its kernels' sandboxes die with it.

A submission is complete when its marker file is written, after its feedback: a run that was
stopped half-way leaves no marker, and the next run grades that submission again.
"""

import glob
import json
import logging
import os
import random
import re
import signal
import time
import warnings
from datetime import UTC, datetime

from .course_dir import CourseDir
from .display import shown
from .feedback import FEEDBACK_SECONDS, generate_with_limit, write_plain_feedback
from .names import is_safe_id
from .outcomes import (
    Outcome,
    flag_for_review,
    read_outcome,
    write_zero_feedback,
    zero_outcome,
)

LOCKED_RETRIES = 4
_STATE: dict = {}


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap the threads of NumPy/BLAS and TensorFlow in a kernel."""
    threads = str(max(1, threads))
    return {
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
    }


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no orphans writing grades)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):
        pass


def serve(connection, root, threads, log_path, isolate) -> None:
    """A worker's life: grade each (assignment, student) received, send back its Outcome,
    until None arrives."""
    die_with_parent()
    init(root, threads, log_path, isolate)
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        connection.send(grade(*task))


def init(root: str, threads: int | None, log_path: str | None = None, isolate: bool = True) -> None:
    """Initialize a worker process: thread limits, course configuration, logs.

    The worker's stderr (which its kernels inherit) and nbgrader's log of every submission
    go to `log_path`, so that a run's screen shows one line per submission.
    """
    if threads:
        os.environ.update(thread_env(threads))
    if log_path:
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 2)
        os.close(log)
    # SQLAlchemy warns about nbgrader's own use of it, several times per submission (the
    # warnings are attributed to nbgrader's modules, so they are told apart by their class)
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    course = CourseDir(root)
    _STATE["course"] = course
    _STATE["coursedir"] = course.coursedirectory()
    _STATE["log_path"] = log_path
    _STATE["isolate"] = isolate
    _STATE["cpus"] = max(0, threads or 0)
    logger = logging.getLogger("traitlets")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


# nbgrader warns for every test cell with hidden tests (the released cell's checksum differs
# from the source's by design); an edited locked cell is reported separately, in words.
NOISE = re.compile(r"^\[WARNING\] Attribute 'checksum' for cell \S+ has changed!.*$\n?", re.M)


def _append_log(student: str, assignment: str, text: str) -> None:
    path = _STATE.get("log_path")
    text = NOISE.sub("", text or "")
    if path and text.strip():
        with open(path, "a") as handle:
            handle.write(shown(f"==== {student} {assignment}\n{text}\n", lines=True))


def _run(converter) -> dict:
    from nbgrader.utils import capture_log

    result = capture_log(converter)
    result["text"] = result.get("log", "") + result.get("error", "")
    return result


def _literal_ids(assignment: str, student: str) -> dict[str, str]:
    """nbgrader's ids for one submission, glob-escaped: nbgrader finds submissions with
    `glob.glob` on them (intake lets only safe ids through; this is the second fence)."""
    return {"assignment_id": glob.escape(assignment), "student_id": glob.escape(student)}


def autograde(course: CourseDir, coursedir, assignment: str, student: str) -> dict:
    """nbgrader's Autograde for one submission (forced); retried while SQLite is locked."""
    from nbgrader.converters import Autograde
    from nbgrader.utils import temp_attrs

    from .config import grading_config

    config = grading_config(
        coursedir.config, course.root, _STATE.get("isolate", True), _STATE.get("cpus", 0)
    )
    for attempt in range(LOCKED_RETRIES):
        with temp_attrs(coursedir, **_literal_ids(assignment, student)):
            converter = Autograde(coursedir=coursedir, config=config)
            converter.force = True
            converter.create_student = True
            result = _run(converter)
        if result["success"] or "database is locked" not in result["text"]:
            return result
        time.sleep(0.5 + random.random() * 2**attempt)
    return result


def generate_feedback(course: CourseDir, coursedir, assignment: str, student: str) -> dict:
    """nbgrader's GenerateFeedback for one submission, as the course's configuration sets it up
    (HTML from nbgrader's feedback template, math as MathML, sanitized last), in a child
    process stopped after `FEEDBACK_SECONDS` ("timed_out" then says so)."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.utils import temp_attrs

    from .config import feedback_config

    config = feedback_config(coursedir.config)

    def run():
        with temp_attrs(coursedir, **_literal_ids(assignment, student)):
            converter = GenerateFeedback(coursedir=coursedir, config=config)
            converter.force = True
            return _run(converter)

    return generate_with_limit(run, FEEDBACK_SECONDS)


def failure_reason(text: str) -> str:
    """One line on why nbgrader could not autograde a submission, from its log."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for marker in ("DeadKernelError", "UnresponsiveKernelError", "ValidationError"):
        for line in lines:
            if marker in line:
                return f"nbgrader could not grade it: {line}"
    errors = [line for line in lines if line.startswith("[ERROR]")]
    tail = [line for line in lines if not line.startswith("[")]
    detail = tail[-1] if tail else (errors[0] if errors else "unknown error")
    return f"nbgrader could not grade it: {detail.removeprefix('[ERROR] ')}"


def grade(assignment: str, student: str) -> Outcome:
    """Autograde one submission and write its feedback; never raises for a bad submission."""
    start = time.monotonic()
    course, coursedir = _STATE["course"], _STATE["coursedir"]
    try:
        result = autograde(course, coursedir, assignment, student)
        _append_log(student, assignment, result["text"])
        if result["success"]:
            outcome = read_outcome(course, assignment, student)
            if outcome.flagged:
                flag_for_review(course, assignment, student)
            feedback = generate_feedback(course, coursedir, assignment, student)
            if feedback.get("timed_out"):
                _append_log(student, f"{assignment} (feedback)", feedback["text"])
                outcome.notes.append(f"feedback took over {FEEDBACK_SECONDS} s; a plain page")
                write_plain_feedback(
                    course,
                    student,
                    assignment,
                    course.notebook_names(assignment),
                    f"{outcome.score:g} / {outcome.max_score:g} points",
                    f"Your submission was graded, but its feedback page could not be written "
                    f"within {FEEDBACK_SECONDS} s (a time limit of the grader), so this page "
                    "shows only your score. Ask your instructor for details.",
                )
            elif not feedback["success"]:
                _append_log(student, f"{assignment} (feedback)", feedback["text"])
                outcome.notes.append("nbgrader generate_feedback failed; no feedback page")
            outcome.seconds = time.monotonic() - start
            mark_complete(course, assignment, student, outcome)
        else:
            reason = failure_reason(result["text"])
            outcome = zero_outcome(course, assignment, student, "failed", reason)
            _mark_failed(course, assignment, student, reason, result["text"])
            write_zero_feedback(course, outcome, course.notebook_names(assignment))
            outcome.seconds = time.monotonic() - start
            mark_complete(course, assignment, student, outcome)
    except Exception as exc:  # a grading run must go on whatever one submission does
        reason = f"grading crashed: {type(exc).__name__}: {exc}"
        try:
            outcome = zero_outcome(course, assignment, student, "failed", reason)
        except Exception:
            outcome = Outcome(student, assignment, "failed", notes=[reason])
    outcome.seconds = time.monotonic() - start
    return outcome


COMPLETE = ".cnn-course-graded.json"


def mark_complete(course: CourseDir, assignment: str, student: str, outcome: Outcome) -> None:
    """Record that the submission was graded to the end (grades and feedback written), with
    how long it took and, when it was not graded, why (what `cnn-course report` shows)."""
    folder = course.autograded_dir(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "graded": datetime.now(UTC).isoformat(timespec="seconds"),
        "score": outcome.score,
        "max_score": outcome.max_score,
        "status": outcome.status,
        "seconds": round(outcome.seconds, 2),
        "reason": "" if outcome.status == "graded" else "; ".join(outcome.notes[:1]),
        "review": "; ".join(outcome.flags),  # what the grades CSV of a later run still shows
    }
    (folder / COMPLETE).write_text(json.dumps(record) + "\n")


def read_record(course: CourseDir, assignment: str, student: str) -> dict:
    """The grader's record of a finished submission ({} when there is none or it is unreadable)."""
    if not is_safe_id(student):
        return {}
    path = course.autograded_dir(student, assignment) / COMPLETE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def is_complete(course: CourseDir, assignment: str, student: str) -> bool:
    return (course.autograded_dir(student, assignment) / COMPLETE).is_file()


def _mark_failed(course: CourseDir, assignment: str, student: str, reason: str, log: str):
    """Leave the reason and nbgrader's log where the autograded notebook would be."""
    folder = course.autograded_dir(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "NOT_GRADED.txt").write_text(f"{reason}\n\nnbgrader's log:\n{log}\n")
