import nbformat
import pytest

from autograder import lessons
from autograder.grading import submissions

POINTS = {"test_add": 1.0, "test_scale": 2.0, "test_counter": 1.0}


def _sources(nb):
    return "\n".join(cell.source for cell in nb.cells)


def _by_student(samples):
    return {s.student: s for s in samples.samples}


def test_perfect_is_the_release_with_solved_cells(fixture_repo, release_path):
    release_nb = nbformat.read(release_path, as_version=4)
    source_nb = nbformat.read(fixture_repo.source, as_version=4)
    solved = submissions.perfect(source_nb, release_nb)
    text = _sources(solved)
    assert "total = a + b" in text and "self.count += 1" in text
    for absent in ("NotImplementedError", "BEGIN SOLUTION", "HIDDEN", "add(-5, 5)"):
        assert absent not in text
    assert [c.metadata for c in solved.cells] == [c.metadata for c in release_nb.cells]


def test_sample_set_lists_every_kind_with_its_expected_score(samples):
    assert samples.points == POINTS
    assert samples.expected() == {
        "perfect": 4.0,
        "untouched": 0.0,
        "mistake-add_minus-add": 3.0,
        "mistake-step_twice-counter-step": 3.0,
        "broken-deleted-test-cell": 4.0,
        "broken-invalid-json": 0.0,
        "broken-not-a-notebook": 0.0,
        "broken-wrong-file-name": 4.0,
    }


def test_untouched_is_the_release(samples, release_path):
    assert _by_student(samples)["untouched"].content == nbformat.read(release_path, as_version=4)


def test_wrong_versions_replace_functions_and_methods(samples):
    add = _sources(_by_student(samples)["mistake-add_minus-add"].content)
    assert "return a - b" in add and "total = a + b" not in add
    step = _sources(_by_student(samples)["mistake-step_twice-counter-step"].content)
    assert "self.count += 2" in step and "def step(self):" in step and "def __init__" in step


def test_broken_samples(samples):
    by = _by_student(samples)
    deleted = by["broken-deleted-test-cell"].content
    assert "test_add" not in [submissions.grade_id(c) for c in deleted.cells]
    assert by["broken-wrong-file-name"].filename == "copy of notebook.ipynb"
    with pytest.raises(ValueError):
        __import__("json").loads(by["broken-invalid-json"].content)


def test_recipes_edit_the_right_cell(samples):
    perfect = _by_student(samples)["perfect"].content
    imported = submissions.raises_at_import("scale", ("test_scale",)).make(perfect, None)
    assert imported.cells[4].source.startswith("import my_helpers")
    printed = submissions.prints_megabytes("add", 2).make(perfect, None)
    assert "range(20)" in printed.cells[2].source
    swapped = submissions.replaced(
        "nan", "Counter.step", "def step(self):\n    return float('nan')\n", (), ""
    ).make(perfect, None)
    assert "return float('nan')" in swapped.cells[4].source
    assert "def scale" in swapped.cells[4].source


def test_samples_are_written_in_nbgrader_layout(samples, tmp_path):
    paths = samples.write(tmp_path)
    assert tmp_path / "perfect/01_fixture/arith.ipynb" in paths
    assert tmp_path / "broken-wrong-file-name/01_fixture/copy of notebook.ipynb" in paths
    assert (tmp_path / "broken-invalid-json/01_fixture/arith.ipynb").read_bytes().startswith(b"{")


def test_student_ids_are_folder_safe():
    assert submissions.student_id("mistake-flipped_kernel-Conv2D.call") == (
        "mistake-flipped_kernel-conv2d-call"
    )


def test_every_demo_submission_has_an_id_intake_takes():
    """A wrong version's long name (its mistake, the methods it replaces and its variant) is
    cut to intake's 64 characters, ids staying apart; the demo once lost one to intake."""
    from autograder.grading.names import SAFE_ID
    from solutions.mistakes import wrong_versions

    long = "mistake-base_in_training_mode-TransferModel.call-default_training"
    assert len(submissions.student_id(long)) == 64
    assert submissions.student_id(long) != submissions.student_id(long + "x")
    ids = [
        submissions.student_id(f"mistake-{version.name}")
        for lesson in lessons.names()
        for version in wrong_versions(lesson)
    ]
    assert all(SAFE_ID.fullmatch(i) for i in ids), [i for i in ids if not SAFE_ID.fullmatch(i)]
    assert len(set(ids)) == len(ids)


def test_defining_cell_names_what_is_missing(samples):
    with pytest.raises(LookupError, match="no cell of the notebook defines 'Nope'"):
        submissions.defining_cell(_by_student(samples)["perfect"].content, "Nope.call")
