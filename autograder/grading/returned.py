"""What a worker of a Dask cluster returns from grading one submission, and how the
coordinator checks it and records it.

On the worker, `collect` gathers what grading left in its private course directory: the
autograded notebooks, the feedback pages, the grades and comments nbgrader saved in the
kit's gradebook, the outcome's status and notes, and nbgrader's log. Plain types only.

On the coordinator, the only writer of the course directory and the gradebook, `check` reads
that as hostile data (a worker is less trusted than the coordinator): only the assignment's
own notebook and feedback file names, no paths, sizes capped, notebooks parsed with nbformat,
feedback pages with the course's Content-Security-Policy and no script, grades only for the
assignment's own cells and within their points. `record` then writes them as a one-machine
run would have: the grades and comments as nbgrader's SaveAutoGrades left them in the worker's
gradebook (with its rule for manual scores applied against the real gradebook), the late
penalty by nbgrader's own AssignLatePenalties against the real gradebook, the outcome read
back by `read_outcome`, the COMPLETE marker last.

What no check here can stop, said plainly: a worker that lies about a score (and writes a
notebook to match) is believed, as a grading process on one machine would be; and Dask's own
protocol unpickles what a worker sends (results, errors), so a worker machine taken over by an
attacker can run code on the coordinator before any of these checks. Students' code runs in
the sandbox on the worker, not in the worker's process; run workers only on machines you trust
as much as the coordinator (and use Dask's TLS settings between machines).
"""

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import worker
from .course_dir import CourseDir
from .display import shown
from .feedback import CSP
from .intake import Caps, Submission, read_notebook, write
from .outcomes import Outcome, flag_for_review, read_outcome, write_zero_feedback, zero_outcome

NOT_GRADED = "NOT_GRADED.txt"
MAX_FILE_BYTES = 64 * 2**20  # an autograded notebook with its figures, a feedback page
MAX_TOTAL_BYTES = 256 * 2**20
MAX_TEXT = 200_000  # characters of nbgrader's log or of NOT_GRADED.txt kept
MAX_NOTES = 50
MAX_NOTE = 2_000
STATUSES = ("graded", "failed")
META = re.compile(r"<meta\s[^>]*>", re.I)
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


# --- on the worker ------------------------------------------------------------------------------


def _files(folder: Path, wanted) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and wanted(p)}


def saved_grades(course: CourseDir, assignment: str, student: str) -> dict:
    """{notebook: {"grades": {id: [auto_score, needs_manual_grade]}, "comments": {id: text}}}
    of the submission in `course`'s gradebook (empty when nbgrader saved none)."""
    from nbgrader.api import MissingEntry

    found = {}
    with course.gradebook() as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return {}
        for notebook in submission.notebooks:
            found[notebook.name] = {
                "grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in notebook.grades},
                "comments": {c.name: c.auto_comment for c in notebook.comments},
            }
    return found


def collect(course: CourseDir, assignment: str, student: str, outcome: Outcome, log: str) -> dict:
    """What grading one submission left in the worker's course directory (see the module)."""
    return {
        "status": outcome.status,
        "complete": worker.is_complete(course, assignment, student),
        "notes": list(outcome.notes),
        "grades": saved_grades(course, assignment, student),
        "autograded": _files(
            course.autograded_dir(student, assignment),
            lambda p: p.suffix == ".ipynb" or p.name == NOT_GRADED,
        ),
        "feedback": _files(course.feedback_dir(student, assignment), lambda p: p.suffix == ".html"),
        "log": log,
        "seconds": outcome.seconds,
    }


# --- on the coordinator -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a result for one assignment may hold: its notebooks, the points of each graded
    cell, the cells that take a comment (read once from the real gradebook)."""

    notebooks: tuple[str, ...]
    points: dict  # notebook -> {grade id: max score}
    commented: dict  # notebook -> set of cell ids with a comment

    @classmethod
    def of(cls, course: CourseDir, assignment: str) -> "Expected":
        with course.gradebook() as gb:
            notebooks = gb.find_assignment(assignment).notebooks
            points = {nb.name: {c.name: c.max_score for c in nb.grade_cells} for nb in notebooks}
            commented = {
                nb.name: {c.name for c in [*nb.solution_cells, *nb.task_cells]} for nb in notebooks
            }
        return cls(tuple(sorted(points)), points, commented)


@dataclass
class Returned:
    """A worker's result for one submission, checked (see `check`)."""

    status: str
    complete: bool
    notes: list[str] = field(default_factory=list)
    grades: dict = field(default_factory=dict)  # notebook -> {grade id: (score, needs manual)}
    comments: dict = field(default_factory=dict)  # notebook -> {cell id: auto comment}
    notebooks: dict = field(default_factory=dict)  # notebook name -> (bytes, NotebookNode)
    not_graded: str = ""
    feedback: dict = field(default_factory=dict)  # page name -> bytes
    log: str = ""
    seconds: float = 0.0


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(what)


def _text(value, what: str, limit: int = MAX_TEXT) -> str:
    _require(isinstance(value, str), f"{what} is not text")
    return shown(value[:limit], lines=True)


def _named_files(value, allowed: set[str], what: str) -> dict[str, bytes]:
    _require(isinstance(value, dict), f"{what} is not a mapping of files")
    for name, data in value.items():
        _require(isinstance(name, str) and name in allowed, f"unexpected {what} file {name!r}")
        _require(isinstance(data, bytes), f"{what} file {name!r} is not bytes")
        _require(len(data) <= MAX_FILE_BYTES, f"{what} file {name!r} is over the size cap")
    return value


def _score(value, points: float, what: str) -> float | None:
    if value is None:
        return None
    _require(
        isinstance(value, int | float) and not isinstance(value, bool), f"{what} is not a number"
    )
    _require(math.isfinite(value) and 0 <= value <= points, f"{what} is not within 0..{points:g}")
    return float(value)


def _grades(value, expected: Expected) -> tuple[dict, dict]:
    _require(isinstance(value, dict), "grades are not a mapping")
    _require(set(value) == set(expected.notebooks), "grades are not those of the notebooks")
    grades, comments = {}, {}
    for notebook, saved in value.items():
        _require(isinstance(saved, dict), f"grades of {notebook} are not a mapping")
        given, said = saved.get("grades"), saved.get("comments")
        _require(isinstance(given, dict) and isinstance(said, dict), f"{notebook}: no grades")
        points = expected.points[notebook]
        _require(set(given) == set(points), f"{notebook}: grades of other cells than its own")
        _require(set(said) == expected.commented[notebook], f"{notebook}: comments of other cells")
        grades[notebook] = {}
        for grade_id, pair in given.items():
            what = f"{notebook}: the score of {grade_id}"
            _require(isinstance(pair, list | tuple) and len(pair) == 2, f"{what} is malformed")
            _require(isinstance(pair[1], bool), f"{what}: its manual-grading flag is not a bool")
            grades[notebook][grade_id] = (_score(pair[0], points[grade_id], what), pair[1])
        comments[notebook] = {}
        for cell_id, text in said.items():
            _require(text is None or isinstance(text, str), f"{notebook}: comment is not text")
            comments[notebook][cell_id] = None if text is None else text[:MAX_NOTE]
    return grades, comments


def _feedback_page(name: str, data: bytes) -> None:
    try:
        page = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"feedback page {name} is not UTF-8") from exc
    lower = page.lower()
    head = page[: lower.find("<body")]
    _require(
        any(_is_csp(tag) for tag in META.findall(head)),
        f"feedback page {name} lacks the course's Content-Security-Policy in its head",
    )
    _require("<script" not in lower, f"feedback page {name} holds a script")


def _is_csp(tag: str) -> bool:
    """Whether a <meta> tag sets the course's Content-Security-Policy, in any attribute order."""
    attributes = dict(ATTRIBUTE.findall(tag))
    return (
        attributes.get("http-equiv", "").lower() == "content-security-policy"
        and attributes.get("content") == CSP
    )


def check(result, expected: Expected, caps: Caps | None = None) -> Returned:
    """`result` (a worker's `collect`) checked field by field; ValueError saying what is wrong.

    Nothing is written: the caller writes only what this returns.
    """
    _require(isinstance(result, dict), "the result is not a mapping")
    status, complete = result.get("status"), result.get("complete")
    _require(status in STATUSES, f"unknown status {status!r}")
    _require(isinstance(complete, bool), "no completeness flag")
    notes = result.get("notes")
    _require(isinstance(notes, list) and len(notes) <= MAX_NOTES, "notes are not a short list")
    seconds = result.get("seconds")
    _require(
        isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0,
        "seconds are not a time",
    )
    returned = Returned(
        status,
        complete,
        notes=[_text(note, "a note", MAX_NOTE) for note in notes],
        log=_text(result.get("log"), "the log"),
        seconds=float(seconds),
    )
    names = {f"{name}.ipynb" for name in expected.notebooks}
    autograded = _named_files(result.get("autograded"), names | {NOT_GRADED}, "autograded")
    feedback = _named_files(
        result.get("feedback"), {f"{name}.html" for name in expected.notebooks}, "feedback"
    )
    total = sum(map(len, autograded.values())) + sum(map(len, feedback.values()))
    _require(total <= MAX_TOTAL_BYTES, "the returned files are over the size cap")
    if NOT_GRADED in autograded:
        try:
            returned.not_graded = _text(autograded.pop(NOT_GRADED).decode("utf-8"), NOT_GRADED)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{NOT_GRADED} is not UTF-8") from exc
    if status != "graded" or not complete:
        return returned  # the coordinator scores it 0 itself and writes its own pages
    _require(autograded, "no autograded notebook")
    cap = Caps(file_mb=MAX_FILE_BYTES // 2**20, total_mb=MAX_TOTAL_BYTES // 2**20)
    for name, data in autograded.items():
        try:
            returned.notebooks[name] = (data, read_notebook(data, caps or cap))
        except ValueError as exc:
            raise ValueError(f"autograded {name}: {exc}") from exc
    for name, data in feedback.items():
        _feedback_page(name, data)
    returned.feedback = feedback
    returned.grades, returned.comments = _grades(result.get("grades"), expected)
    return returned


def _write(folder: Path, name: str, data: bytes) -> None:
    """Write `folder/name` (a name this module chose or checked), never through a link."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with os.fdopen(os.open(folder / name, flags, 0o644), "wb") as handle:
        handle.write(data)


def _timestamp(files: dict[str, bytes]):
    """The submission's time as nbgrader's Autograde reads it from timestamp.txt, or None."""
    from nbgrader.utils import parse_utc

    text = files.get("timestamp.txt", b"").decode("utf-8", "replace").strip()
    try:
        return parse_utc(text) if text else None
    except ValueError:
        return None


def _save_grades(course: CourseDir, assignment: str, student: str, returned: Returned, files):
    """The grades and comments of `returned` into the real gradebook, as Autograde saves them."""
    from nbgrader.preprocessors import AssignLatePenalties

    from .config import load_config

    timestamp = _timestamp(files)
    with course.gradebook() as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's creation of a submission makes SQLAlchemy warn
        gb.update_or_create_student(student)
        extra = {"timestamp": timestamp} if timestamp else {}
        submission = gb.update_or_create_submission(assignment, student, **extra)
        for notebook in submission.notebooks:
            autograded = f"{notebook.name}.ipynb" in returned.notebooks
            for grade in notebook.grades:
                score, needs_manual = returned.grades[notebook.name][grade.name]
                grade.auto_score = score
                # SaveAutoGrades' rule: an earlier manual score asks for a look again
                grade.needs_manual_grade = needs_manual or (
                    autograded and grade.manual_score is not None
                )
            for comment in notebook.comments:
                comment.auto_comment = returned.comments[notebook.name][comment.name]
        gb.db.commit()
    config = load_config(course.root)
    for name, (_, nb) in sorted(returned.notebooks.items()):
        resources = {
            "nbgrader": {
                "notebook": name.removesuffix(".ipynb"),
                "assignment": assignment,
                "student": student,
                "db_url": course.db_url,
            }
        }
        AssignLatePenalties(config=config).preprocess(nb, resources)


def _copy_other_files(course: CourseDir, assignment: str, student: str, files) -> None:
    """What nbgrader's Autograde copies next to the autograded notebooks: the submission's
    other files (timestamp.txt, data) and the assignment's source files but notebooks."""
    folder = course.autograded_dir(student, assignment)
    others = {rel: data for rel, data in files.items() if not rel.endswith(".ipynb")}
    source = course.source / assignment
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix != ".ipynb":
            others[path.relative_to(source).as_posix()] = path.read_bytes()
    for rel in list(others):
        if (folder / rel).exists():
            (folder / rel).unlink()
    write(Submission(student, assignment, folder, others), folder)


def record(
    course: CourseDir,
    assignment: str,
    student: str,
    returned: Returned,
    files: dict[str, bytes],
) -> Outcome:
    """Write a checked result into the course directory and the gradebook; its Outcome.

    `files` are the submission's files as staged in `submitted/` (the coordinator's copy).
    The order keeps a rerun right: the gradebook first, then the files, the marker last (a run
    stopped in between leaves the submission unfinished, and the next run grades it again).
    """
    folder = course.autograded_dir(student, assignment)
    reason = returned.notes[0] if returned.notes else "the worker gave no reason"
    if returned.status != "graded" or not returned.complete:
        outcome = zero_outcome(course, assignment, student, "failed", reason)
        outcome.seconds = returned.seconds
        if returned.complete:  # nbgrader failed on it: as final as on one machine
            _write(folder, NOT_GRADED, (returned.not_graded or reason + "\n").encode())
            write_zero_feedback(course, outcome, course.notebook_names(assignment))
            worker.mark_complete(course, assignment, student, outcome)
        return outcome
    _save_grades(course, assignment, student, returned, files)
    _copy_other_files(course, assignment, student, files)
    for name, (data, _) in sorted(returned.notebooks.items()):
        _write(folder, name, data)
    outcome = read_outcome(course, assignment, student)
    if outcome.flagged:
        flag_for_review(course, assignment, student)
    outcome.notes += [note for note in returned.notes if note not in outcome.notes]
    outcome.seconds = returned.seconds
    feedback = course.feedback_dir(student, assignment)
    for name, data in sorted(returned.feedback.items()):
        _write(feedback, name, data)
    worker.mark_complete(course, assignment, student, outcome)
    return outcome
