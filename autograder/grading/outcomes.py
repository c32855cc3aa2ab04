"""What grading gave one submission: scores per test cell and why points were lost.

Scores come from nbgrader's gradebook; reasons from the autograded notebook's outputs (the
error a test cell raised, a timeout, output on stderr) and from comparing the submitted
notebook with the released one (deleted or edited locked cells).
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course_dir import CourseDir

TIMEOUT_ERROR = "CellTimeoutError"
RESTORED_MARK = "was missing from the submission"
TRUNCATED_MARK = "... Output truncated"
STDERR = "wrote to stderr"


@dataclass
class CellScore:
    """The score of one autograded test cell, and why points were lost."""

    grade_id: str
    score: float | None
    max_score: float
    reason: str = ""
    needs_manual_grade: bool = False


@dataclass
class Outcome:
    """The result of grading one student's submission of one assignment.

    `status` is "graded", "unreadable" (no notebook could be read: 0 points), "failed"
    (nbgrader could not grade it: 0 points) or "skipped" (already graded).
    """

    student: str
    assignment: str
    status: str = "graded"
    cells: list[CellScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)  # for the instructor's review

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    meta = _meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def _first_line(text: str, limit: int = 160) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def cell_problem(cell) -> str:
    """Why a code cell failed, in one line ("" when it did not)."""
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    timeouts = [o for o in errors if o.ename == TIMEOUT_ERROR]
    if timeouts:
        return f"timed out: {_first_line(timeouts[0].evalue)}"
    if errors:
        error = errors[0]
        detail = _first_line(error.evalue)
        return f"{error.ename}: {detail}" if detail else error.ename
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            return (
                f"wrote to stderr (nbgrader counts that as a failure): {_first_line(output.text)}"
            )
    return ""


def _label(index: int, cell) -> str:
    """The cell counted from 1, as the review flags and the sandbox's notes count."""
    grade_id = _meta(cell).get("grade_id")
    return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"


def notebook_notes(nb) -> list[str]:
    """Problems outside the test cells' own results: errors and timeouts in other cells,
    restored test cells, truncated output (stderr outside test cells does not count)."""
    notes = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if RESTORED_MARK in cell.source.split("\n", 1)[0]:
            notes.append(f"{_label(index, cell)} was deleted; nbgrader put it back and graded it")
        problem = cell_problem(cell)
        if problem.startswith("timed out"):
            notes.append(f"{_label(index, cell)} {problem}")
        elif problem and not is_test_cell(cell) and not problem.startswith(STDERR):
            notes.append(f"{_label(index, cell)} raised {problem}")
        if any(
            o.output_type == "stream" and TRUNCATED_MARK in o.text for o in cell.get("outputs", [])
        ):
            notes.append(f"{_label(index, cell)} printed too much; its output was cut")
    return notes


def tampering(submitted_nb, release_nb) -> list[str]:
    """Locked cells of the release that the submission deleted or edited."""
    submitted = {_meta(cell).get("grade_id"): cell for cell in submitted_nb.cells if _meta(cell)}
    notes = []
    for cell in release_nb.cells:
        meta = _meta(cell)
        if not meta.get("locked") or meta.get("solution"):
            continue
        grade_id = meta.get("grade_id")
        kind = "test cell" if is_test_cell(cell) else "locked cell"
        if grade_id not in submitted:
            if not is_test_cell(cell):
                notes.append(f"{kind} {grade_id} was deleted (it is not graded)")
        elif submitted[grade_id].source != cell.source:
            notes.append(f"{kind} {grade_id} was edited; nbgrader restored the original")
    return notes


def read_scores(course: CourseDir, assignment: str, student: str) -> list[CellScore]:
    """Scores of every graded cell of the submission, from the gradebook, in notebook order."""
    cells = []
    with course.gradebook() as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in sorted(submission.notebooks, key=lambda n: n.name):
            order = _cell_order(course, assignment, notebook.name)
            grades = sorted(notebook.grades, key=lambda g: order.get(g.name, len(order)))
            cells += [
                CellScore(g.name, g.score, g.max_score, needs_manual_grade=g.needs_manual_grade)
                for g in grades
            ]
    return cells


def _cell_order(course: CourseDir, assignment: str, notebook: str) -> dict[str, int]:
    path = course.release / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    nb = nbformat.read(path, as_version=4)
    ids = [_meta(cell).get("grade_id") for cell in nb.cells]
    return {grade_id: index for index, grade_id in enumerate(ids) if grade_id}


def grading_flags(nb) -> list[str]:
    """What the grading sandbox found in an autograded notebook, for the instructor's review:
    code the grader does not run unchecked, and what the kernel's witness reported."""
    found = nb.metadata.get("cnn_course", {})
    flags = [f"withheld for review: {f}" for f in found.get("findings", [])]
    flags += [f"tampering: {note}" for note in found.get("integrity", [])]
    flags += [f"verdict from the kernel, unprotected: {c}" for c in found.get("unchecked", [])]
    return flags


def grading_notes(nb) -> list[str]:
    """Why cells of an autograded notebook were not run (notebook time limit, dead kernel)."""
    stopped = nb.metadata.get("cnn_course", {}).get("stopped")
    return [f"cells were not run: {stopped}"] if stopped else []


def read_outcome(course: CourseDir, assignment: str, student: str) -> Outcome:
    """The outcome of a submission that nbgrader autograded, with reasons for lost points."""
    outcome = Outcome(student, assignment, cells=read_scores(course, assignment, student))
    by_id = {cell.grade_id: cell for cell in outcome.cells}
    for path in sorted(course.autograded_dir(student, assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            score = by_id.get(_meta(cell).get("grade_id"))
            if score is not None and is_test_cell(cell):
                score.reason = cell_problem(cell)
        outcome.notes += grading_notes(nb) + notebook_notes(nb)
        outcome.flags += grading_flags(nb)
    manual = [cell.grade_id for cell in outcome.cells if cell.needs_manual_grade]
    if manual and not outcome.flags:
        outcome.flags.append(f"needs manual grading: {', '.join(manual)}")
    return outcome


def flag_for_review(course: CourseDir, assignment: str, student: str) -> None:
    """Mark every autograded cell of the submission as needing manual grading, so that
    formgrader lists it for the instructor's review (the automatic scores stay)."""
    with course.gradebook() as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.needs_manual_grade = True
        gb.db.commit()


def zero_outcome(course: CourseDir, assignment: str, student: str, status: str, reason: str):
    """Record a submission no notebook of which nbgrader could grade: every cell scores 0.

    Done the way nbgrader itself scores a missing notebook: the grades get auto_score 0 and
    need no manual grading.
    """
    with course.gradebook() as gb, warnings.catch_warnings():
        # nbgrader's own creation of a submission makes SQLAlchemy warn (harmlessly)
        warnings.simplefilter("ignore")
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gb.db.commit()
    outcome = Outcome(student, assignment, status, read_scores(course, assignment, student))
    for cell in outcome.cells:
        cell.reason = reason
    outcome.notes.append(reason)
    return outcome


def write_zero_feedback(course: CourseDir, outcome: Outcome, notebooks: list[str]) -> list[Path]:
    """Feedback pages for a submission that could not be graded, where nbgrader puts its own."""
    import html

    pages = []
    folder = course.feedback_dir(outcome.student, outcome.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    reason = html.escape(outcome.notes[0] if outcome.notes else "it could not be graded")
    for name in notebooks:
        page = folder / f"{name}.html"
        page.write_text(
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{html.escape(name)}</title></head><body>\n"
            f"<h1>{html.escape(outcome.assignment)} / {html.escape(name)}: "
            f"0 / {outcome.max_score:g} points</h1>\n"
            f"<p>Your submission could not be graded: {reason}.</p>\n"
            "<p>Submit the notebook you worked in (File &gt; Save, then submit the "
            ".ipynb file) and ask your instructor to grade it again.</p>\n</body></html>\n"
        )
        pages.append(page)
    return pages
