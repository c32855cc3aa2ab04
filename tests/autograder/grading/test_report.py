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
