"""Grade tables and CSV files, read from nbgrader's gradebook.

Every text cell of a CSV written here goes through `spreadsheet_cell`: a spreadsheet runs a
cell that starts with = + - @ TAB or CR as a formula (OWASP's CSV injection), so such text gets
a leading single quote; control characters are written as escapes (`display.shown`). Numbers
stay numbers, negative ones included.
"""

import csv
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course_dir import CourseDir
from .display import shown
from .errors import CourseError
from .worker import read_record

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass
class GradeTable:
    """One row per (student, assignment, notebook) with the score of every graded cell."""

    cells: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return ["student", "assignment", "notebook", *self.cells, "total", "max", "review", "note"]


def _cell_order(course: CourseDir, assignment: str, notebook: str) -> list[str]:
    path = course.release / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return []
    nb = nbformat.read(path, as_version=4)
    meta = [cell.get("metadata", {}).get("nbgrader", {}) for cell in nb.cells]
    return [m["grade_id"] for m in meta if m.get("grade") and "grade_id" in m]


def grade_table(
    course: CourseDir, assignments, notes: dict | None = None, reviews: dict | None = None
) -> GradeTable:
    """Every submission of `assignments` in the gradebook.

    `notes` maps (student, assignment) to a note for the last column; `reviews` to what the
    instructor should review (code withheld by the grader, tampering it saw).
    """
    notes, reviews = notes or {}, reviews or {}
    table = GradeTable()
    with course.gradebook() as gb:
        for assignment in assignments:
            for notebook in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
                order = _cell_order(course, assignment, notebook.name)
                ids = order + sorted(c.name for c in notebook.grade_cells if c.name not in order)
                table.cells += [i for i in ids if i not in table.cells]
                for sub in sorted(notebook.submissions, key=lambda s: s.student.id):
                    student = sub.student.id
                    row = {"student": student, "assignment": assignment, "notebook": notebook.name}
                    row |= {g.name: g.score for g in sub.grades}
                    row["total"] = sum(g.score or 0.0 for g in sub.grades)
                    row["max"] = sum(g.max_score for g in sub.grades)
                    row["review"] = _review(course, assignment, sub, reviews)
                    row["note"] = notes.get((student, assignment), "")
                    table.rows.append(row)
    return table


def _review(course: CourseDir, assignment: str, sub, reviews: dict) -> str:
    """What this run found to review in the submission or, when this run did not grade it,
    what an earlier run found, as long as its points are still withheld for review."""
    student = sub.student.id
    if (student, assignment) in reviews:
        return reviews[(student, assignment)]
    if not any(grade.needs_manual_grade for grade in sub.grades):
        return ""
    return read_record(course, assignment, student).get("review", "")


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def spreadsheet_cell(value) -> str:
    """`value` as a CSV cell a spreadsheet shows as text and never runs (see the module
    docstring); numbers, and text that is a plain number such as "-2.5", are kept as they are."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _fmt(value)
    text = _fmt(value)
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        text = "'" + text
    return shown(text)


def write_csv(table: GradeTable, path: Path) -> Path:
    """Write `table` as CSV (empty cells where a cell does not apply or has no score)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_cell(column) for column in table.columns])
        for row in table.rows:
            writer.writerow([spreadsheet_cell(row.get(column)) for column in table.columns])
    return path


def render(table: GradeTable, extra: dict | None = None, short: bool = True) -> str:
    """`table` as aligned text.

    `extra` maps (student, assignment, notebook) to more columns (e.g. expected, verdict).
    Assignment and notebook columns appear only when the table has more than one of them.
    """
    extra = extra or {}
    extra_columns = list(dict.fromkeys(k for values in extra.values() for k in values))
    keys = ["student"] + [
        key for key in ("assignment", "notebook") if len({r[key] for r in table.rows}) > 1
    ]
    names = [c.removeprefix("test_") if short else c for c in table.cells]
    lines = [[*keys, *names, "total", *extra_columns]]
    for row in table.rows:
        values = [_fmt(row.get(c)) if c in row else "-" for c in table.cells]
        total = f"{_fmt(row['total'])}/{_fmt(row['max'])}"
        more = extra.get((row["student"], row["assignment"], row["notebook"]), {})
        lines.append(
            [
                *(row[k] for k in keys),
                *values,
                total,
                *(str(more.get(c, "")) for c in extra_columns),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = []
    for n, line in enumerate(lines):
        text.append("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


def export_csv(course: CourseDir, to: Path, assignments=(), students=()) -> Path:
    """nbgrader's own CSV export (`nbgrader export`) of the course's gradebook to `to`."""
    from nbgrader.plugins import CsvExportPlugin

    to = Path(to)
    if to.exists():
        raise CourseError(f"{to} already exists; pass another --to path or delete it first")
    course.require_built()
    handle, raw = tempfile.mkstemp(prefix=".export-", suffix=".csv", dir=to.parent or ".")
    os.close(handle)
    try:
        plugin = CsvExportPlugin(to=raw, assignment=list(assignments), student=list(students))
        with course.gradebook() as gb:
            plugin.export(gb)
        with open(raw, newline="") as source, to.open("x", newline="") as target:
            writer = csv.writer(target)
            for row in csv.reader(source):
                writer.writerow([spreadsheet_cell(cell) for cell in row])
    finally:
        os.unlink(raw)
    return to
