"""`cnn-course report`'s page and CSV files: self-contained, inert, hostile text escaped; its
errors one line each. On the fixture course with a class filled through nbgrader's API."""

import csv
import html
from html.parser import HTMLParser

import pytest

from autograder.cli import main
from autograder.grading.course_dir import CourseDir
from autograder.grading.errors import CourseError
from autograder.grading.report_page import FILES, POLICY, write_report
from tests.autograder.grading.conftest import HOSTILE_ID, HOSTILE_TEXT


class Elements(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


@pytest.fixture
def report(class_course, tmp_path):
    paths = write_report(class_course, out=tmp_path / "report")
    return tmp_path / "report", paths


def test_the_page_is_self_contained_and_runs_nothing(report):
    folder, paths = report
    assert [p.name for p in paths] == list(FILES) and all(p.is_file() for p in paths)
    page = (folder / "report.html").read_text()
    tags = elements(page)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "iframe", "object", "embed", "link", "base", "form", "svg"}
    assert not [(tag, a) for tag, attrs in tags for a in attrs if a.startswith("on")]
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 2 and all(s.startswith("data:image/png;base64,") for s in images)
    assert ("meta", {"http-equiv": "Content-Security-Policy", "content": POLICY}) in tags
    links = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert links == ["#lesson-01_fixture"]


def test_hostile_ids_reasons_and_titles_are_text(report):
    folder, _ = report
    page = (folder / "report.html").read_text()
    for text in (HOSTILE_ID, HOSTILE_TEXT):
        assert html.escape(text, quote=True) in page
    assert "<script>" not in page and "<img src=x" not in page and "onerror=alert" in page
    assert page.count("alert(") == page.count("&lt;script&gt;alert(") + page.count("onerror=alert(")


def test_the_page_shows_every_part(report):
    folder, _ = report
    page = (folder / "report.html").read_text()
    for heading in (
        "Score distribution",
        "Checks",
        "Catalogued mistakes",
        "Held for review",
        "Not graded, or not run to the end",
        "Slowest to grade",
    ):
        assert heading in page
    assert '<td>a - b instead of a + b</td><td>test_add</td><td class="n">2</td>' in page
    assert "<td>bo, cy</td>" in page
    assert "<td>eve</td><td>unreadable</td>" in page
    assert '<td>bo</td><td class="n">12.2</td>' in page or '<td class="n">12.3</td>' in page


def test_csv_files_hold_the_tables_without_formulas(report):
    folder, _ = report

    def rows(name):
        with (folder / name).open(newline="") as handle:
            return list(csv.reader(handle))

    scores = rows("scores.csv")
    assert scores[0] == [
        "assignment", "student", "score", "max", "status", "seconds", "why", "review"
    ]  # fmt: skip
    by_student = {row[1]: row for row in scores[1:]}
    assert by_student["bo"][2:6] == ["2", "4", "graded", "12.25"]
    assert by_student["zed"][6] == f"cells were not run: {HOSTILE_TEXT}"
    checks = rows("checks.csv")
    assert checks[1] == ["01_fixture", "test_add", "1", "2", "0", "5", "0"]
    mistakes = rows("mistakes.csv")
    assert mistakes[1] == [
        "01_fixture",
        "subtracts",
        "a - b instead of a + b",
        "test_add",
        "2",
        "bo cy",
    ]
    assert mistakes[2][2] == "'" + HOSTILE_TEXT
    for name in ("scores.csv", "checks.csv", "mistakes.csv", "canvas-grades.csv"):
        for row in rows(name):
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)


def test_errors_are_one_line_and_write_nothing(class_course, tmp_path, capsys):
    def error(*args):
        assert main(["report", *map(str, args)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("cnn-course report: error: ")
        return err

    assert "does not exist; run `cnn-course release" in error("--dir", tmp_path / "nope")
    message = error("--dir", class_course.root, "--assignment", "09_x", "--out", tmp_path / "o")
    assert "unknown assignment '09_x'" in message and not (tmp_path / "o").exists()
    (tmp_path / "file").write_text("")
    message = error("--dir", class_course.root, "--out", tmp_path / "file" / "report")
    assert "cannot write the report to" in message and "pass --out" in message
    assert main(["report", "--dir", str(class_course.root), "--out", str(tmp_path / "r")]) == 0
    assert "class report: " in capsys.readouterr().out
    assert "already holds a report" in error("--dir", class_course.root, "--out", tmp_path / "r")


def test_a_lesson_without_submissions_says_so(course, tmp_path):
    write_report(course, out=tmp_path / "r")
    page = (tmp_path / "r" / "report.html").read_text()
    assert "no catalogued mistake was named" in page and "<img" not in page
    with pytest.raises(CourseError, match="not a built course directory"):
        (tmp_path / "empty").mkdir()
        write_report(CourseDir(tmp_path / "empty"))
