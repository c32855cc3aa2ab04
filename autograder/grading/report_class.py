"""What a class did in each lesson, read from the gradebook and the grader's own records.

Per assignment: every submission's score, status and grading time; per check (test cell), how
many scored full, partial and zero points; per catalogued mistake, who made it; the submissions
held for review and why; those that could not be graded.

Where each part comes from, and why it can be believed:

- scores and "needs manual grading": nbgrader's gradebook;
- status, grading time and why a submission was not graded: the record `cnn-course grade`
  writes next to the autograded notebook when it is done (`worker.COMPLETE`);
- reasons for review and catalogued mistakes: the autograded notebook's `cnn_course`
  metadata, which the grader (`SandboxedExecute`) writes after the kernel is gone, replacing
  whatever the submission carried under that key. So it is read only from a notebook that
  `cnn-course grade` graded to the end and that did not change after its record was written
  (`graded_notebook`). A mistake graded before that record
  existed, or named by a check that does not pass it on, is read from the test cell's error
  output ("Likely mistake: <title>. ..."): the grader writes a test cell's outputs itself
  (`test_cells.write_outputs`) after running the checks on its own side, so the submission
  cannot put that line there, except in a cell the grader ran in the kernel because it was not
  only check calls (listed under `unchecked`), which is never read.

Everything else read from a submission (ids, reasons, titles) is text to escape where it is
shown. Student ids are used as folder names only when they are safe ids (`names.is_safe_id`).
"""

import re
import statistics
from dataclasses import dataclass, field

import nbformat

from .course_dir import CourseDir
from .names import is_safe_id
from .outcomes import grading_flags, grading_notes, is_test_cell
from .report import _cell_order
from .worker import COMPLETE, read_record

MISTAKE_LINE = re.compile(r"^\s*Likely mistake: (.+?)\.(?: |$)", re.M)
UNCHECKED_CELL = re.compile(r"^cell (\d+) ")


@dataclass
class Submission:
    """One student's graded submission of one assignment."""

    student: str
    score: float
    max_score: float
    status: str = "graded"  # or "unreadable", "failed"; "unknown" without the grader's record
    seconds: float | None = None
    reason: str = ""  # why it was not graded, or not all of its cells were run
    review: list[str] = field(default_factory=list)  # why it is held for review


@dataclass
class CheckStats:
    """How a class did on one check (test cell)."""

    grade_id: str
    points: float
    full: int = 0
    partial: int = 0
    zero: int = 0
    unscored: int = 0  # no score yet (waiting for manual grading)

    @property
    def scored(self) -> int:
        return self.full + self.partial + self.zero

    @property
    def pass_rate(self) -> float | None:
        return self.full / self.scored if self.scored else None


@dataclass
class MistakeStats:
    """One catalogued mistake (by its title: a lesson's titles are distinct, and a mistake read
    from a check's output has no id) and the students whose failed check named it."""

    title: str
    mistake_id: str = ""
    checks: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)


@dataclass
class LessonReport:
    """The class's results in one assignment."""

    assignment: str
    max_score: float = 0.0
    submissions: list[Submission] = field(default_factory=list)
    checks: list[CheckStats] = field(default_factory=list)
    mistakes: list[MistakeStats] = field(default_factory=list)

    @property
    def scores(self) -> list[float]:
        return [s.score for s in self.submissions]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def held(self) -> list[Submission]:
        return [s for s in self.submissions if s.review]

    @property
    def failed(self) -> list[Submission]:
        """Submissions not graded, or whose cells were not all run (time limit, dead kernel)."""
        return [s for s in self.submissions if s.status not in ("graded", "unknown") or s.reason]

    def slowest(self, count: int = 5) -> list[Submission]:
        timed = [s for s in self.submissions if s.seconds is not None]
        return sorted(timed, key=lambda s: (-s.seconds, s.student))[:count]


def _unchecked_cells(found: dict) -> set[int]:
    """Indices of the cells the grader ran in the kernel (their outputs are the kernel's)."""
    cells = set()
    for entry in found.get("unchecked", []):
        match = UNCHECKED_CELL.match(str(entry))
        if match:
            cells.add(int(match.group(1)) - 1)
    return cells


def notebook_mistakes(nb) -> dict[str, dict]:
    """grade id -> {"id", "title"} of the catalogued mistake each failed check named (the
    module docstring says where from and why it is trusted)."""
    found = nb.metadata.get("cnn_course", {})
    if not isinstance(found, dict):
        return {}
    recorded = found.get("mistakes", {})
    mistakes = {
        str(k): {"id": str(v.get("id", "")), "title": str(v.get("title", ""))}
        for k, v in (recorded.items() if isinstance(recorded, dict) else [])
        if isinstance(v, dict) and v.get("title")
    }
    unchecked = _unchecked_cells(found)
    for index, cell in enumerate(nb.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not grade_id or grade_id in mistakes or index in unchecked or not is_test_cell(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "CheckFailed":
                match = MISTAKE_LINE.search(str(output.get("evalue", "")))
                if match:
                    mistakes[grade_id] = {"id": "", "title": match.group(1)}
                    break
    return mistakes


def graded_notebook(course: CourseDir, assignment: str, student: str, notebook: str):
    """The autograded notebook as `cnn-course grade` left it, or None: when there is no record
    of a finished grading, or the notebook changed after it (graded again by stock nbgrader,
    which keeps the submission's own `cnn_course` metadata and runs test cells in its kernel)."""
    if not is_safe_id(student):
        return None
    folder = course.autograded_dir(student, assignment)
    path, record = folder / f"{notebook}.ipynb", folder / COMPLETE
    try:
        if path.stat().st_mtime > record.stat().st_mtime:
            return None
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError):
        return None


def _count_grades(entry: Submission, grades, checks: dict[str, CheckStats]) -> list[str]:
    """Add the grades of one notebook to the submission and the checks; the grade ids that
    need manual grading."""
    manual = []
    for grade in grades:
        unscored = grade.manual_score is None and grade.auto_score is None
        score = None if unscored else (grade.score or 0.0)
        entry.score += score or 0.0
        entry.max_score += grade.max_score or 0.0
        stats = checks.setdefault(grade.name, CheckStats(grade.name, grade.max_score))
        if score is None:
            stats.unscored += 1
        elif score > 0 and score >= (grade.max_score or 0):
            stats.full += 1
        elif score > 0:
            stats.partial += 1
        else:
            stats.zero += 1
        if grade.needs_manual_grade:
            manual.append(grade.name)
    return manual


def _count_mistakes(student: str, nb, mistakes: dict[str, MistakeStats]) -> None:
    for grade_id, mistake in notebook_mistakes(nb).items():
        stats = mistakes.setdefault(mistake["title"], MistakeStats(mistake["title"]))
        stats.mistake_id = stats.mistake_id or mistake["id"]
        stats.checks += [grade_id] if grade_id not in stats.checks else []
        if student not in stats.students:
            stats.students.append(student)


def _new_submission(course: CourseDir, assignment: str, student: str) -> Submission:
    entry = Submission(student, 0.0, 0.0)
    record = read_record(course, assignment, student)
    entry.status = str(record.get("status", "unknown"))
    seconds = record.get("seconds")
    entry.seconds = float(seconds) if isinstance(seconds, int | float) else None
    if entry.status != "graded":
        entry.reason = str(record.get("reason", ""))
    return entry


def lesson_report(course: CourseDir, assignment: str) -> LessonReport:
    """The class's results in `assignment` (which must be in the gradebook)."""
    lesson = LessonReport(assignment)
    by_student: dict[str, Submission] = {}
    checks: dict[str, CheckStats] = {}
    mistakes: dict[str, MistakeStats] = {}
    with course.gradebook() as gb:
        found = gb.find_assignment(assignment)
        lesson.max_score = float(found.max_score or 0.0)
        for notebook in sorted(found.notebooks, key=lambda n: n.name):
            rank = {
                name: i for i, name in enumerate(_cell_order(course, assignment, notebook.name))
            }
            for cell in sorted(notebook.grade_cells, key=lambda c: (rank.get(c.name, 1e9), c.name)):
                checks.setdefault(cell.name, CheckStats(cell.name, float(cell.max_score or 0)))
            for sub in sorted(notebook.submissions, key=lambda s: s.student.id):
                student = sub.student.id
                if student not in by_student:
                    by_student[student] = _new_submission(course, assignment, student)
                entry = by_student[student]
                manual = _count_grades(entry, sub.grades, checks)
                nb = graded_notebook(course, assignment, student, notebook.name)
                if nb is not None and entry.status == "graded":
                    entry.review += grading_flags(nb)
                    _count_mistakes(student, nb, mistakes)
                    entry.reason = entry.reason or "; ".join(grading_notes(nb))
                if manual and not entry.review:
                    entry.review.append(f"needs manual grading: {', '.join(manual)}")
    lesson.submissions = sorted(by_student.values(), key=lambda s: s.student)
    lesson.checks = list(checks.values())
    lesson.mistakes = sorted(mistakes.values(), key=lambda m: (-len(m.students), m.title))
    return lesson


def class_report(course: CourseDir, assignments=()) -> list[LessonReport]:
    """Every assignment asked for (default: all in the gradebook), checked to exist."""
    course.require_built()
    for assignment in assignments:
        course.require_assignment(assignment)
    chosen = list(dict.fromkeys(assignments)) or course.released_assignments()
    return [lesson_report(course, assignment) for assignment in chosen]
