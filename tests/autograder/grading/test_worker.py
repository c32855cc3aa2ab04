import glob

from autograder.grading import worker


def test_ids_reach_nbgraders_glob_as_literals(tmp_path):
    for name in ("ann", "a*", "b[c]", "d?"):
        (tmp_path / name).mkdir()
    ids = worker._literal_ids("01_x", "a*")
    assert ids["assignment_id"] == "01_x"
    assert glob.glob(str(tmp_path / ids["student_id"])) == [str(tmp_path / "a*")]
    assert glob.glob(str(tmp_path / worker._literal_ids("x", "b[c]")["student_id"])) == [
        str(tmp_path / "b[c]")
    ]


def test_the_grading_log_gets_no_control_sequences(tmp_path, monkeypatch):
    log = tmp_path / "grade.log"
    monkeypatch.setitem(worker._STATE, "log_path", str(log))
    worker._append_log("ann", "01_x", "\x1b[0;31mError\x1b[0m\n\x1b]52;c;aGk=\x07\rforged")
    assert log.read_text() == "==== ann 01_x\nError\n\\x1b]52;c;aGk=\\x07\\x0dforged\n"
