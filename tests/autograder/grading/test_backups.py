import sqlite3

from autograder.grading.backups import Backup


def test_backup_keeps_paths_relative_to_the_course(tmp_path):
    course = tmp_path / "course"
    (course / "autograded/ann/01_x").mkdir(parents=True)
    (course / "autograded/ann/01_x/n.ipynb").write_text("{}")
    backup = Backup(course, course / "backups")
    assert not backup.used
    moved = backup.move(course / "autograded/ann/01_x")
    assert moved == backup.folder / "autograded/ann/01_x"
    assert (moved / "n.ipynb").read_text() == "{}"
    assert not (course / "autograded/ann/01_x").exists()


def test_gradebook_copy_is_a_consistent_database(tmp_path):
    db = tmp_path / "gradebook.db"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES (42)")
    con.close()
    copy = Backup(tmp_path, tmp_path / "backups").copy_gradebook(db)
    with sqlite3.connect(copy) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(42,)]
    con.close()


def test_two_backups_in_the_same_second_get_their_own_folder(tmp_path):
    first, second = Backup(tmp_path, tmp_path / "b"), Backup(tmp_path, tmp_path / "b")
    assert first.folder != second.folder
