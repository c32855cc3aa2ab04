"""The class roster: students' names in the gradebook, from a CSV the instructor gives.

The format is nbgrader's `nbgrader db student import`: a header row with `id` and any of
`first_name`, `last_name`, `email`, `lms_user_id`; one row per student. Students already in the
gradebook are updated, others added; formgrader then shows names instead of "None, None".
"""

import csv
from pathlib import Path

from .course_dir import CourseDir
from .display import shown
from .errors import CourseError
from .names import ID_RULE, is_safe_id

FIELDS = ("first_name", "last_name", "email", "lms_user_id")


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows, checked: an `id` column, ids present and unique."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"roster {path} does not exist; pass a CSV file with an `id` column")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CourseError(f"roster {path} is not a readable CSV file ({exc})") from exc
    header = rows[0].keys() if rows else []
    if "id" not in header:
        raise CourseError(
            f"roster {path} has no `id` column (columns: {', '.join(header) or 'none'}); use "
            "nbgrader's format: id,first_name,last_name,email"
        )
    seen = set()
    for number, row in enumerate(rows, start=2):
        student = (row.get("id") or "").strip()
        if not student:
            raise CourseError(f"roster {path}, line {number}: the id is empty")
        if not is_safe_id(student):
            raise CourseError(
                f"roster {path}, line {number}: the id '{shown(student)}' must be {ID_RULE}, "
                "as the submission folders' names are"
            )
        if student in seen:
            raise CourseError(f"roster {path}, line {number}: student {student!r} appears twice")
        seen.add(student)
    return rows


def import_roster(course: CourseDir, path: Path) -> tuple[int, int]:
    """Add or update every student of the roster in the gradebook; (added, updated)."""
    course.require_built()
    rows = read_roster(path)
    added = updated = 0
    with course.gradebook() as gb:
        known = {student.id for student in gb.students}
        for row in rows:
            student = row["id"].strip()
            values = {f: row[f].strip() for f in FIELDS if (row.get(f) or "").strip()}
            gb.update_or_create_student(student, **values)
            if student in known:
                updated += 1
            else:
                added += 1
    return added, updated
