import csv

from autograder.grading.report import GradeTable, render, write_csv


def _table():
    return GradeTable(
        cells=["test_a", "test_b"],
        rows=[
            {
                "student": "ann",
                "assignment": "01_x",
                "notebook": "n",
                "test_a": 1.0,
                "test_b": 2.5,
                "total": 3.5,
                "max": 4.0,
                "note": "",
            },
            {
                "student": "bo",
                "assignment": "01_x",
                "notebook": "n",
                "test_a": 0.0,
                "test_b": None,
                "total": 0.0,
                "max": 4.0,
                "note": "unreadable; bad JSON",
            },
        ],
    )


def test_csv_has_one_column_per_test_cell(tmp_path):
    path = write_csv(_table(), tmp_path / "g" / "grades.csv")
    with path.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "student",
        "assignment",
        "notebook",
        "test_a",
        "test_b",
        "total",
        "max",
        "review",
        "note",
    ]
    assert rows[1] == ["ann", "01_x", "n", "1", "2.5", "3.5", "4", "", ""]
    assert rows[2] == ["bo", "01_x", "n", "0", "", "0", "4", "", "unreadable; bad JSON"]


def test_render_aligns_columns_and_adds_verdicts():
    text = render(_table(), {("ann", "01_x", "n"): {"expected": "3.5", "verdict": "ok"}})
    lines = text.splitlines()
    assert lines[0].split() == ["student", "a", "b", "total", "expected", "verdict"]
    assert lines[2].split() == ["ann", "1", "2.5", "3.5/4", "3.5", "ok"]
    assert lines[3].split() == ["bo", "0", "0/4"]
    assert lines[0].index("total") == lines[2].index("3.5/4") == lines[3].index("0/4")


def test_csv_cells_never_run_as_formulas_or_control_the_terminal(tmp_path):
    from autograder.grading.report import spreadsheet_cell

    table = _table()
    table.rows[0] |= {"student": '=HYPERLINK("http://x","y")', "note": "+cmd|' /C calc'!A0"}
    table.rows[1] |= {"student": "@SUM(1)", "note": "\x1b]52;c;aGk=\x07 -2 \r\n\u202eevil"}
    table.rows[1]["test_a"] = -1.5
    path = write_csv(table, tmp_path / "grades.csv")
    text = path.read_text()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    rows = list(csv.reader(text.splitlines()))
    assert rows[1][0] == '\'=HYPERLINK("http://x","y")' and rows[1][-1].startswith("'+cmd")
    assert rows[2][0] == "'@SUM(1)" and rows[2][3] == "-1.5"
    assert rows[2][-1] == "\\x1b]52;c;aGk=\\x07 -2 \\x0d\\n\\u202eevil"
    for value, cell in [
        ("-", "'-"),
        ("\tx", "'\tx"),
        ("\rx", "'\\x0dx"),
        ("-3", "-3"),
        ("-2.5e3", "-2.5e3"),
        (-4.0, "-4"),
        ("-1+1", "'-1+1"),
        ("ann", "ann"),
        (None, ""),
    ]:
        assert spreadsheet_cell(value) == cell, value


def test_export_escapes_what_nbgraders_export_writes(course, tmp_path):
    from autograder.grading.report import export_csv

    with course.gradebook() as gb:
        gb.add_student("ann", first_name="=HYPERLINK(1)", last_name="\x1b]52;c;aGk=\x07")
    path = export_csv(course, tmp_path / "export.csv")
    text = path.read_text()
    assert "'=HYPERLINK(1)" in text and "\\x1b]52" in text and "\x1b" not in text
    assert not list(tmp_path.glob(".export-*"))
