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


# --- hostile names and files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "student",
    [
        "*",
        "a?",
        "[ab]",
        "=HYPERLINK(x)",
        "+cmd",
        "-",
        "@SUM(1)",
        "\tx",
        "x\ry",
        "\x1b[31mred",
        "..x",
        ".hidden-but-not-ignored",
        "x" * 65,
        "ann bob",
        "é",
    ],
)
def test_a_student_folder_with_an_unsafe_name_is_refused_and_not_read(
    tmp_path, student, monkeypatch
):
    _write(tmp_path / "alice/01_fixture/arith.ipynb", _nb_bytes())
    bad = tmp_path / student / "01_fixture"
    _write(bad / "arith.ipynb", _nb_bytes())
    looked = []
    real = intake._entries
    monkeypatch.setattr(intake, "_entries", lambda f, b: looked.append(f) or real(f, b))
    subs, skipped = intake.scan(tmp_path, NOTEBOOKS)
    assert not [f for f in looked if f.is_relative_to(tmp_path / student)]
    assert [s.student for s in subs] == ["alice"]
    if student.startswith("."):  # hidden folders are no submissions, as before
        assert skipped == []
        return
    (line,) = skipped
    assert line.startswith("refused '") and "student id" in line and "\n" not in line
    assert "\x1b" not in line and "\r" not in line


def test_unsafe_assignment_folders_and_flat_files_are_refused(tmp_path):
    _write(tmp_path / "alice/0*/arith.ipynb", _nb_bytes())
    _write(tmp_path / "alice/01_fixture/arith.ipynb", _nb_bytes())
    subs, skipped = intake.scan(tmp_path, NOTEBOOKS)
    assert [(s.student, s.assignment) for s in subs] == [("alice", "01_fixture")]
    assert skipped == [
        "refused 'alice/0*': an assignment folder's name must be "
        f"{intake.ID_RULE}; nothing of it was read"
    ]
    flat = tmp_path / "flat"
    _write(flat / "=cmd.ipynb", _nb_bytes())
    _write(flat / "bob.ipynb", _nb_bytes())
    subs, skipped = intake.scan(flat, NOTEBOOKS, "01_fixture")
    assert [s.student for s in subs] == ["bob"] and skipped[0].startswith("refused '=cmd.ipynb'")


def test_only_refused_folders_is_no_error_for_scan_but_nothing_to_grade(tmp_path):
    _write(tmp_path / "*/01_fixture/arith.ipynb", _nb_bytes())
    subs, skipped = intake.scan(tmp_path, NOTEBOOKS)
    assert subs == [] and skipped[0].startswith("refused '*'")


def test_links_fifos_and_unsafe_file_names_are_skipped_unopened(tmp_path):
    import os

    outside = tmp_path / "secret.txt"
    outside.write_text("instructor's secret")
    folder = tmp_path / "subs/alice/01_fixture"
    _write(folder / "arith.ipynb", _nb_bytes())
    (folder / "link.txt").symlink_to(outside)
    (folder / "linked_dir").symlink_to(tmp_path)
    os.link(outside, folder / "hard.txt")
    os.mkfifo(folder / "pipe")  # opening it for reading would block forever
    _write(folder / "*.txt", "glob")
    _write(folder / "sub/\x1b]52;c;aGk=\x07.txt", "osc")
    _write(folder / "sub/ok.txt", "fine")
    (sub,), skipped = intake.scan(tmp_path / "subs", NOTEBOOKS)
    assert _names(sub) == ["arith.ipynb", "sub/ok.txt"] and skipped == []
    notes = " ".join(sub.notes)
    assert "symbolic link" in notes and "hard links" in notes and "FIFO" in notes
    assert "'*.txt'" in notes and "\\x1b]52" in notes and "\x1b" not in notes
    assert b"secret" not in b"".join(sub.files.values())


def test_a_symlinked_student_folder_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere/01_fixture"
    _write(elsewhere / "arith.ipynb", _nb_bytes())
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs/mallory").symlink_to(tmp_path / "elsewhere")
    _write(tmp_path / "subs/alice/01_fixture/arith.ipynb", _nb_bytes())
    subs, skipped = intake.scan(tmp_path / "subs", NOTEBOOKS)
    assert [s.student for s in subs] == ["alice"]
    assert skipped == ["refused 'mallory': a symbolic link; it was not followed"]


def test_huge_sparse_files_are_skipped_by_their_size_without_being_read(tmp_path, monkeypatch):
    folder = tmp_path / "alice/01_fixture"
    _write(folder / "arith.ipynb", _nb_bytes())
    for n in range(3):
        with open(folder / f"data{n}.bin", "wb") as handle:
            handle.truncate(10 * 2**30)  # 10 GB apparent, no block on disk
    read = []
    real = intake.read_file
    monkeypatch.setattr(intake, "read_file", lambda p, *a: read.append(p.name) or real(p, *a))
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert read == ["arith.ipynb"] and _names(sub) == ["arith.ipynb"]
    assert sub.notes == [
        "skipped 3 files (larger than 20 MB, --max-file-mb; not read): 'data0.bin', "
        "'data1.bin', 'data2.bin'"
    ]


def test_an_oversized_notebook_is_not_read_and_scores_zero_with_the_reason(tmp_path):
    with open(_mkdirs(tmp_path / "alice/01_fixture") / "arith.ipynb", "wb") as handle:
        handle.truncate(30 * 2**20)
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.unreadable.startswith("arith.ipynb cannot be graded: 30 MB is more than a notebook")
    assert _names(sub) == []
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS, caps=intake.Caps(file_mb=40, total_mb=80))
    assert "not a text file" in sub.unreadable or "invalid JSON" in sub.unreadable


def test_file_count_and_total_size_are_capped_notebooks_first(tmp_path):
    folder = tmp_path / "alice/01_fixture"
    for n in range(30):
        _write(folder / f"f{n:02}.txt", b"x" * 2**20)
    _write(folder / "zz.ipynb", _nb_bytes())
    _write(folder / "arith.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS, caps=intake.Caps(files=10, total_mb=5))
    assert _names(sub)[:2] == ["arith.ipynb", "f00.txt"] and "zz.ipynb" in sub.files
    assert len(_names(sub)) == 6  # two notebooks and four 1 MB files fit in 5 MB
    assert any("may hold 5 MB in all" in note for note in sub.notes)
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS, caps=intake.Caps(files=3))
    assert len(_names(sub)) == 3 and any("may have 3 files" in note for note in sub.notes)


def test_a_notebook_is_found_in_a_flood_of_files(tmp_path):
    folder = tmp_path / "alice/01_fixture"
    for n in range(3000):
        _write(folder / f"f{n}.txt", b"")
    _write(folder / "arith.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert sub.unreadable is None and len(sub.files) <= intake.CAPS.files + 1
    assert any("looked at only the first" in note for note in sub.notes)


def test_a_lone_notebook_with_an_unsafe_name_is_graded_under_the_expected_name(tmp_path):
    _write(tmp_path / "finn/01_fixture/*.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert _names(sub) == ["arith.ipynb"] and sub.unreadable is None
    _write(tmp_path / "finn/01_fixture/arith.ipynb", _nb_bytes())
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    assert _names(sub) == ["arith.ipynb"] and "'*.ipynb'" in " ".join(sub.notes)


def test_write_refuses_unsafe_names_and_links(tmp_path):
    sub = intake.Submission("ann", "01_fixture", tmp_path, {"../escape.txt": b"x"})
    with pytest.raises(ValueError, match="not a safe file name"):
        intake.write(sub, tmp_path / "out")
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2/arith.ipynb").symlink_to(tmp_path / "target")
    with pytest.raises(OSError):
        intake.write(
            intake.Submission("ann", "a", tmp_path, {"arith.ipynb": b"x"}), tmp_path / "out2"
        )
    assert not (tmp_path / "target").exists()


def _mkdirs(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cell(source, grade_id, test):
    kind = (
        {"grade": True, "solution": False, "locked": True, "points": 1}
        if test
        else {"grade": False, "solution": True, "locked": False}
    )
    return nbformat.v4.new_code_cell(
        source, metadata={"nbgrader": {**kind, "grade_id": grade_id, "schema_version": 3}}
    )


def test_cells_copied_in_jupyter_with_their_id_no_longer_make_nbgrader_refuse_the_notebook(
    tmp_path,
):
    """A test cell copied further down to run the check again, and a solution cell copied to
    try a second version: nbgrader refuses a notebook with a repeated cell id at all."""
    cells = [
        _cell("def f(x):\n    return x", "f", test=False),
        _cell("check(f)", "test_f", test=True),
        _cell("def f(x):\n    return 2 * x", "f", test=False),
        _cell("check(f)", "test_f", test=True),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    _write(tmp_path / "finn/01_fixture/arith.ipynb", nbformat.writes(nb))
    (sub,), _ = intake.scan(tmp_path, NOTEBOOKS)
    graded = nbformat.reads(sub.files["arith.ipynb"].decode(), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    assert ids == ["f", None, "test_f"]  # the later test cell stays: it runs after more code
    assert graded.cells[1].source == "def f(x):\n    return 2 * x"
    assert sub.notes == [
        "arith.ipynb: cell 2, a copy of test cell test_f, was removed",
        "arith.ipynb: cell 3, a copy of cell f, was graded as an ordinary cell",
    ]
