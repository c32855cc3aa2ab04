import pytest

from autograder.grading.names import is_safe_file_name, is_safe_id


@pytest.mark.parametrize("name", ["ann", "a.b_c-d", "A1", "0", "x" * 64])
def test_safe_ids(name):
    assert is_safe_id(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        ".x",
        "-x",
        "_x",
        "*",
        "a*",
        "a?",
        "[a]",
        "a/b",
        "a b",
        "a\tb",
        "é",
        "x" * 65,
        "=cmd",
        "+cmd",
        "@x",
        "a\x1b[31m",
        "a\n",
    ],
)
def test_unsafe_ids(name):
    assert not is_safe_id(name)


def test_file_names_also_allow_spaces_and_parentheses():
    assert is_safe_file_name("convolution (1).ipynb") and is_safe_file_name("Copy of a.ipynb")
    for name in ("*.ipynb", "a?.txt", ".hidden", "x.", "x ", "a/b", "a\\b", "-rf", "a\x00"):
        assert not is_safe_file_name(name), name
