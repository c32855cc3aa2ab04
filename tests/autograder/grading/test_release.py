import json

import nbformat
import pytest

from autograder.grading.course_dir import CourseDir
from autograder.grading.errors import CourseError
from autograder.grading.release import check_no_leaks, find_leaks, release, secret_lines

ASSIGNMENT, NOTEBOOK = "01_fixture", "arith"  # the fixture assignment of conftest.py


def _read(path):
    return nbformat.read(path, as_version=4)


def test_release_builds_an_nbgrader_course_directory(released_fixture):
    course = released_fixture
    assert course.config_path.is_file() and course.gradebook_path.is_file()
    assert (course.source / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()
    assert course.released_assignments() == [ASSIGNMENT]
    assert course.notebook_names(ASSIGNMENT) == [NOTEBOOK]
    with course.gradebook() as gb:
        cells = {c.name: c.max_score for c in gb.find_notebook(NOTEBOOK, ASSIGNMENT).grade_cells}
    assert cells == {"test_add": 1.0, "test_scale": 2.0, "test_counter": 1.0}


def test_released_notebook_has_stubs_and_no_solution_or_hidden_tests(released_fixture):
    text = (released_fixture.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert "raise NotImplementedError()" in text
    for secret in ("BEGIN SOLUTION", "total = a + b", "self.count += 1", "add(-5, 5)", "HIDDEN"):
        assert secret not in text


def test_released_notebook_carries_what_validates_scan_needs(released_fixture):
    from autograder.grading.scan import Release

    released = _read(released_fixture.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    stored = Release.from_metadata(json.loads(json.dumps(released.metadata)))
    assert stored is not None and stored == Release.of(released)


def test_gradebook_uses_write_ahead_logging(released_fixture):
    import sqlite3

    with sqlite3.connect(released_fixture.gradebook_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_secret_lines_leave_out_code_that_is_also_given(fixture_repo):
    secret = secret_lines(_read(fixture_repo.source))
    assert "total = a + b" in secret and "checks.check_add(add, hidden=True)" in secret
    assert "return total" not in secret  # given code, outside the solution region
    assert "raise NotImplementedError()" not in secret


def test_a_leaked_solution_line_is_found(fixture_repo, released_fixture):
    source = _read(fixture_repo.source)
    leaky = _read(released_fixture.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    assert find_leaks(source, leaky) == []
    leaky.cells[2].source += "\n    total = a + b"
    leaky.cells[3].source += "\n### BEGIN HIDDEN TESTS"
    leaks = find_leaks(source, leaky)
    assert "cell 2 contains the solution line 'total = a + b'" in leaks
    assert any("cell 3 contains the marker" in leak for leak in leaks)


def test_release_fails_loudly_and_withdraws_a_leaking_release(course):
    path = course.release / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = _read(path)
    nb.cells[4].source = nb.cells[4].source.replace("# YOUR CODE HERE", "scaled = values * 2")
    nb.cells[4].source += "\n    scaled = [value * factor for value in values]"
    nbformat.write(nb, path)
    with pytest.raises(CourseError, match="leaks solution code: cell 4 contains the solution"):
        check_no_leaks(course, ASSIGNMENT)
    assert not (course.release / ASSIGNMENT).exists()


def test_release_refuses_a_notebook_that_drifted_from_its_reference(fixture_repo, tmp_path):
    notebooks = tmp_path / "notebooks"
    (notebooks / ASSIGNMENT).mkdir(parents=True)
    nb = _read(fixture_repo.source)
    nb.cells[4].source = nb.cells[4].source.replace("value * factor", "factor * value")
    nbformat.write(nb, notebooks / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    with pytest.raises(CourseError) as error:
        release(notebooks, CourseDir(tmp_path / "course"), say=lambda _: None)
    message = str(error.value)
    assert message.endswith(
        "arith.ipynb: cell 4 (fixture_solutions:scale, fixture_solutions:Counter) differs from "
        "solutions/; run `cnn-course sync`"
    )
    assert not (tmp_path / "course").exists()


def test_release_names_unknown_assignments_and_missing_folders(fixture_repo, tmp_path):
    course = CourseDir(tmp_path / "course")
    with pytest.raises(CourseError, match="unknown assignment '09_nope'.*01_fixture"):
        release(fixture_repo.notebooks, course, ["09_nope"])
    with pytest.raises(CourseError, match="notebooks folder .* does not exist"):
        release(tmp_path / "missing", course)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CourseError, match="no notebooks in"):
        release(tmp_path / "empty", course)


def test_a_lesson_without_its_notebook_yet_is_named_with_the_path_expected(fixture_repo, tmp_path):
    # 02_convolution is a lesson of the course; the fixture's notebooks folder lacks it
    with pytest.raises(CourseError) as missing:
        release(fixture_repo.notebooks, CourseDir(tmp_path / "course"), ["02_convolution"])
    message = str(missing.value)
    assert message.startswith("lesson '02_convolution' has no notebook: expected ")
    assert message.split(" (")[0].endswith("02_convolution/convolution.ipynb")
    assert "01_fixture" in message and "check the name" not in message


def test_nbgrader_failure_is_one_clear_error(fixture_repo, tmp_path):
    notebooks = tmp_path / "notebooks"
    (notebooks / ASSIGNMENT).mkdir(parents=True)
    nb = json.loads(fixture_repo.source.read_text())
    nb["cells"][3]["source"] = "### BEGIN SOLUTION\nassert True\n"  # no END SOLUTION
    nb["cells"][3]["metadata"]["nbgrader"].update(solution=True, grade=False, locked=False)
    (notebooks / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text(json.dumps(nb))
    with pytest.raises(CourseError, match="nbgrader generate_assignment failed for 01_fixture"):
        release(notebooks, CourseDir(tmp_path / "course"), say=lambda _: None)
