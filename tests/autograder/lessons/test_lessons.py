"""`autograder.lessons`: lessons are found by their folder, and a folder that is not found
says why (a half-made lesson without checks.py, a misnamed folder)."""

import pytest

from autograder import lessons


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty lessons folder in place of the course's."""
    monkeypatch.setattr(lessons, "FOLDER", tmp_path)
    lessons.names.cache_clear()
    yield tmp_path
    lessons.names.cache_clear()


def test_a_lesson_is_a_folder_named_nn_topic_with_a_checks_module(folder):
    (folder / "12_activation").mkdir()
    (folder / "12_activation" / "checks.py").write_text("")
    (folder / "13_half_made").mkdir()
    assert lessons.names() == ("12_activation",)


def test_a_folder_without_checks_py_is_named_as_such(folder):
    (folder / "12_activation").mkdir()
    with pytest.raises(ModuleNotFoundError, match=r"12_activation has no checks\.py"):
        lessons.module("12_activation")


def test_a_misnamed_folder_is_named_as_such(folder):
    (folder / "12-Activation").mkdir()
    assert "is not named like a lesson (NN_topic" in lessons.not_found("12-Activation")


def test_an_unknown_name_lists_the_lessons(folder):
    (folder / "01_a").mkdir()
    (folder / "01_a" / "checks.py").write_text("")
    assert lessons.not_found("99_nope") == "no lesson named '99_nope'; lessons: 01_a"
    assert lessons.not_found("") == "no lesson named ''; lessons: 01_a"
