"""The `cnn-course` command line: subcommands and one-line errors for people."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grade", "subs", "--dir", "{tmp}/none"], "cnn-course grade: error: course directory "),
        (
            ["release", "--notebooks", "{tmp}/none", "--dir", "{tmp}/c"],
            "cnn-course release: error: notebooks folder ",
        ),
        (["export", "--dir", "{tmp}/none"], "cnn-course export: error: course directory "),
        (["report", "--dir", "{tmp}/none"], "cnn-course report: error: course directory "),
        (["sync", "--notebooks", "{tmp}/none"], "cnn-course sync: error: notebooks folder "),
        (
            ["references", "09_nope", "--notebooks", str(ROOT / "notebooks")],
            "cnn-course references: error: no stored references for '09_nope'",
        ),
        (["grade", "subs", "--jobs", "0"], "cnn-course grade: error: argument --jobs: "),
        (["grade"], "cnn-course grade: error: the following arguments are required: submissions"),
        (["frobnicate"], "cnn-course: error: argument command: invalid choice"),
        (["mutants", "99_nope"], "cnn-course mutants: error: no lesson named '99_nope'"),
        (
            ["mutants", "02_convolution", "--only", "nope"],
            "cnn-course mutants: error: convolution.py has no object or mutant 'nope'",
        ),
    ],
)
def test_user_errors_are_one_line(argv, expected, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    assert status == 2
    assert _error_line(capsys).startswith(expected)


def test_references_of_a_lesson_that_stores_none_is_a_note_not_an_error(capsys):
    assert main(["references", "--check", "01_mlp_limits"]) == 0
    out = capsys.readouterr().out
    assert (
        out == "01_mlp_limits stores no reference outputs (no reference_outputs in its cases.py)\n"
    )


def test_mutants_list_names_each_mutant_of_the_chosen_object(capsys):
    assert main(["mutants", "02_convolution", "--list", "--only", "Conv2D.call"]) == 0
    *lines, total = capsys.readouterr().out.splitlines()
    assert total == f"{len(lines)} mutants" and lines
    assert all(line.startswith("solutions/convolution.py:") for line in lines)
    assert all(": Conv2D.call: " in line for line in lines)


def _generated_notebook(tmp_path, monkeypatch):
    """notebooks/01_tiny/tiny.ipynb with one cell generated from a module `tiny_reference`."""
    from autograder.authoring.sync import generated_source

    (tmp_path / "tiny_reference.py").write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cell = nbformat.v4.new_code_cell(
        "", metadata={"cnn_course": {"objects": ["tiny_reference:double"]}}
    )
    cell.source = generated_source(cell)
    path = tmp_path / "notebooks" / "01_tiny" / "tiny.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_sync_check_reports_drift_and_sync_repairs_it(tmp_path, monkeypatch, capsys):
    path = _generated_notebook(tmp_path, monkeypatch)
    notebooks = str(path.parents[1])
    assert main(["sync", "--check", "--notebooks", notebooks]) == 0
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "def double(x):\n    return x + x"
    nbformat.write(nb, path)
    capsys.readouterr()
    assert main(["sync", "--check", "--notebooks", notebooks]) == 1
    out = capsys.readouterr().out
    assert "tiny.ipynb: cell 0 (tiny_reference:double) differs from solutions/; run " in out
    assert main(["sync", "--notebooks", notebooks]) == 0
    assert "rewrote" in capsys.readouterr().out
    assert main(["sync", "--check", "--notebooks", notebooks]) == 0


def test_references_check_matches_the_shipped_files(capsys):
    status = main(
        ["references", "--check", "02_convolution", "--notebooks", str(ROOT / "notebooks")]
    )
    assert status == 0, capsys.readouterr()
    assert "stored references match (02_convolution.npz)" in capsys.readouterr().out


def test_no_traceback_from_the_installed_command(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.cli",
            "grade",
            str(tmp_path),
            "--dir",
            str(tmp_path / "none"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("cnn-course grade: error: course directory ")
    assert result.stderr.count("\n") == 1
