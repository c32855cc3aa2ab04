"""The grading subcommands of `cnn-course` (release, grade, export) on the fixture course."""

import shutil

from autograder.cli import main


def _error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


def test_grade_errors_name_the_fix(released_fixture, tmp_path, capsys):
    assert main(["grade", str(tmp_path / "subs"), "--dir", str(released_fixture.root)]) == 2
    line = _error_line(capsys)
    assert "submissions folder" in line and "does not exist; pass the folder that holds" in line
    (tmp_path / "grades.csv").write_text("")
    argv = ["grade", str(tmp_path), "--dir", str(released_fixture.root)]
    assert main([*argv, "--csv", str(tmp_path / "grades.csv")]) == 2
    assert _error_line(capsys).endswith(
        "grades.csv already exists; pass another --csv path or delete it"
    )
    assert main([*argv, "--assignment", "07_x"]) == 2
    assert "unknown assignment '07_x'" in _error_line(capsys)


def test_release_grade_export(fixture_repo, tmp_path, capsys):
    course = tmp_path / "course"
    assert (
        main(
            [
                "release",
                "--notebooks",
                str(fixture_repo.notebooks),
                "--dir",
                str(course),
                "--cell-timeout",
                "40",
            ]
        )
        == 0
    )
    assert "Execute.timeout = 40" in (course / "nbgrader_config.py").read_text()
    subs = tmp_path / "subs" / "ann" / "01_fixture"
    subs.mkdir(parents=True)
    shutil.copy(course / "release/01_fixture/arith.ipynb", subs)
    assert (
        main(
            [
                "grade",
                str(tmp_path / "subs"),
                "--dir",
                str(course),
                "--jobs",
                "1",
                "--cell-timeout",
                "20",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "per-cell time limit is now 20 s" in out
    assert "[1/1] ann 01_fixture 0/4 pts" in out
    assert "Execute.timeout = 20" in (course / "nbgrader_config.py").read_text()
    assert main(["export", "--course", str(course), "--to", str(tmp_path / "export.csv")]) == 0
    assert "ann" in (tmp_path / "export.csv").read_text()
    assert main(["export", "--dir", str(course), "--to", str(tmp_path / "export.csv")]) == 2
    assert "export.csv already exists" in _error_line(capsys)


def test_grade_with_only_refused_folders_fails_in_one_line(released_fixture, tmp_path, capsys):
    (tmp_path / "subs" / "*" / "01_fixture").mkdir(parents=True)
    argv = ["grade", str(tmp_path / "subs"), "--dir", str(released_fixture.root)]
    assert main(argv) == 2
    assert "could be graded: 1 folder or file refused" in _error_line(capsys)
