"""The grades CSV in Canvas's gradebook import layout, names and ids escaped."""

import csv

from autograder.grading.report_canvas import write_canvas_csv
from tests.autograder.grading.conftest import ASSIGNMENT, add_graded

FORMULA_ID = '=HYPERLINK("http://x","y")'


def test_canvas_layout_with_roster_names_and_formula_escaping(course, tmp_path):
    with course.gradebook() as gb:
        gb.update_or_create_student(
            "ada", first_name="Ada", last_name="Lovelace", lms_user_id="1001"
        )
        gb.update_or_create_student("mal", first_name="=cmd|' /C calc'!A0", last_name="@SUM(1)")
        gb.update_or_create_student("absent", first_name="Al", last_name="Absent")
    add_graded(course, "ada", {"test_add": 1, "test_scale": 2, "test_counter": 1})
    add_graded(course, "mal", {"test_add": 1, "test_scale": 0.5, "test_counter": 0})
    add_graded(course, FORMULA_ID, {"test_add": 0, "test_scale": 0, "test_counter": 0})
    path = write_canvas_csv(course, [ASSIGNMENT], tmp_path / "canvas.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert rows[1] == ["    Points Possible", "", "", "", "", "4"]
    by_login = {row[3]: row for row in rows[2:]}
    assert by_login["ada"] == ["Lovelace, Ada", "1001", "", "ada", "", "4"]
    assert by_login["absent"] == ["Absent, Al", "", "", "absent", "", ""]
    assert by_login["mal"] == ["'@SUM(1), =cmd|' /C calc'!A0", "", "", "mal", "", "1.5"]
    assert by_login["'" + FORMULA_ID] == ["'" + FORMULA_ID, "", "", "'" + FORMULA_ID, "", "0"]
    assert len(rows) == 2 + 4
