"""Grades as a CSV that Canvas's gradebook imports (Grades > Import).

The layout is Canvas's own export: the columns `Student` ("Last, First"), `ID` (the Canvas
user id), `SIS User ID`, `SIS Login ID`, `Section`, then one column per assignment; the row
under the header is `    Points Possible` with each assignment's maximum. Canvas finds each
student by ID, SIS User ID or SIS Login ID: here ID is the student's `lms_user_id` from the
roster (`cnn-course roster`, empty without one) and SIS Login ID the course's student id.
A column "name (number)" updates Canvas's assignment with that number; a column with only a
name creates an assignment of that name on the first import, and matches it by name afterwards.
A student without a submission gets an empty cell (Canvas leaves that grade as it is).

Every text cell goes through `report.spreadsheet_cell` (no formula, no control character).
"""

import csv
from pathlib import Path

from .course_dir import CourseDir
from .report import spreadsheet_cell

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"


def canvas_rows(course: CourseDir, assignments, columns: dict | None = None) -> list[list]:
    """The CSV's rows (header, points possible, one per student) for `assignments`;
    `columns` maps an assignment to its column's title (default: its name)."""
    columns = columns or {}
    with course.gradebook() as gb:
        found = [gb.find_assignment(a) for a in assignments]
        header = [*HEADER, *(columns.get(a.name, a.name) for a in found)]
        rows = [header, [POINTS_POSSIBLE, "", "", "", "", *(a.max_score or 0.0 for a in found)]]
        scores = {a.name: {s.student.id: s.score for s in a.submissions} for a in found}
        for student in sorted(gb.students, key=lambda s: s.id):
            named = ", ".join(n for n in (student.last_name, student.first_name) if n)
            row = [named or student.id, student.lms_user_id or "", "", student.id, ""]
            row += [scores[a.name].get(student.id, "") for a in found]
            rows.append(row)
    return rows


def write_canvas_csv(course: CourseDir, assignments, path: Path) -> Path:
    """Write the Canvas grades CSV of `assignments` to `path`."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for row in canvas_rows(course, assignments):
            writer.writerow([spreadsheet_cell(value) for value in row])
    return path
