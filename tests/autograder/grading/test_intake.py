import json

import nbformat
import pytest

from autograder.grading import intake
from autograder.grading.errors import CourseError

NOTEBOOKS = {"01_fixture": ["arith"], "02_two": ["a", "b"]}


def _nb_bytes(source="x = 1"):
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]))


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def test_nested_layout_keeps_extra_files(tmp_path):
    _write(tmp_path / "alice/01_fixture/arith.ipynb", _nb_bytes())
    _write(tmp_path / "alice/01_fixture/timestamp.txt", "2026-01-01 10:00:00")
    _write(tmp_path / "alice/01_fixture/.ipynb_checkpoints/arith-checkpoint.ipynb", _nb_bytes())
    (sub,), skipped = intake.scan(tmp_path, NOTEBOOKS)
    assert (sub.student, sub.assignment, sub.unreadable) == ("alice", "01_fixture", None)
    assert sorted(sub.files) == ["arith.ipynb", "timestamp.txt"]
    assert skipped == []


def test_flat_files_need_the_assignment(tmp_path):
    _write(tmp_path / "bob.ipynb", _nb_bytes())
    with pytest.raises(CourseError, match="no submissions found"):
        intake.scan(tmp_path, NOTEBOOKS)
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS, "01_fixture")
    assert (sub.student, _names(sub)) == ("bob", ["arith.ipynb"])


def test_flat_file_refused_for_a_several_notebook_assignment(tmp_path):
    _write(tmp_path / "bob.ipynb", _nb_bytes())
    _write(tmp_path / "carol/02_two/a.ipynb", _nb_bytes())
    subs, skipped = intake.scan(tmp_path, NOTEBOOKS, "02_two")
    assert [s.student for s in subs] == ["carol"]
    assert "several notebooks" in skipped[0]


def test_student_folder_without_assignment_level(tmp_path):
    _write(tmp_path / "dan/arith.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS, "01_fixture")
    assert (sub.student, sub.assignment, _names(sub)) == ("dan", "01_fixture", ["arith.ipynb"])


def test_unknown_assignment_folders_are_reported(tmp_path):
    _write(tmp_path / "erin/01_fixture/arith.ipynb", _nb_bytes())
    _write(tmp_path / "erin/07_nope/x.ipynb", _nb_bytes())
    subs, skipped = intake.scan(tmp_path, NOTEBOOKS)
    assert len(subs) == 1
    assert skipped == ["erin/07_nope: no released assignment of that name"]


def test_a_lone_notebook_with_another_name_is_graded_under_the_expected_name(tmp_path):
    _write(tmp_path / "finn/01_fixture/arith (1).ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert _names(sub) == ["arith.ipynb"] and sub.unreadable is None
    assert sub.notes == ["notebook was named 'arith (1).ipynb'; graded as arith.ipynb"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"cells": [', "invalid JSON"),
        (b'{"answer": 42}', "not a Jupyter notebook"),
        (b"\xff\xfe\x00", "not a text file"),
    ],
)
def test_unreadable_notebooks_are_kept_aside_with_a_reason(tmp_path, data, reason):
    _write(tmp_path / "gus/01_fixture/arith.ipynb", data)
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.unreadable.startswith(f"arith.ipynb cannot be graded: {reason}")
    assert _names(sub) == ["arith.ipynb.unreadable"]
    assert sub.files["arith.ipynb.unreadable"] == data


def test_missing_notebook_is_a_clear_reason(tmp_path):
    _write(tmp_path / "hal/01_fixture/notes.txt", "no notebook")
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.unreadable == "no arith.ipynb in the submission (found: no notebook at all)"


def test_several_notebooks_one_unreadable(tmp_path):
    _write(tmp_path / "ida/02_two/a.ipynb", _nb_bytes())
    _write(tmp_path / "ida/02_two/b.ipynb", b"oops")
    _write(tmp_path / "ida/02_two/c.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.unreadable is None
    assert _names(sub) == ["a.ipynb", "b.ipynb.unreadable", "c.ipynb"]
    assert any("b.ipynb cannot be graded (invalid JSON" in n for n in sub.notes)
    assert "ignored c.ipynb: the assignment has no notebook of that name" in sub.notes


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(CourseError, match="submissions folder .* does not exist"):
        intake.scan(tmp_path / "nope", NOTEBOOKS)


def test_read_notebook_accepts_old_minor_versions():
    nb = json.loads(_nb_bytes())
    nb["nbformat_minor"] = 2
    for cell in nb["cells"]:
        cell.pop("id", None)
    assert intake.read_notebook(json.dumps(nb).encode()).cells[0].source == "x = 1"


def _names(sub) -> list[str]:
    """The submission's files, without the timestamp intake adds."""
    return sorted(name for name in sub.files if name != intake.TIMESTAMP)


def test_a_submission_without_timestamp_gets_its_notebooks_save_time(tmp_path):
    import os

    _write(tmp_path / "eve/01_fixture/arith.ipynb", _nb_bytes())
    os.utime(tmp_path / "eve/01_fixture/arith.ipynb", (1_700_000_000, 1_700_000_000))
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.files[intake.TIMESTAMP] == b"2023-11-14 22:13:20.000000 UTC"
