import pytest

from autograder.grading.errors import CourseError
from autograder.grading.roster import read_roster


def test_roster_ids_must_be_safe_ids(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,first_name\nann,Ann\n*,Everyone\n")
    with pytest.raises(CourseError, match=r"line 3: the id '\*' must be 1 to 64 letters"):
        read_roster(path)
    path.write_text("id,first_name\nann,=HYPERLINK(1)\n")
    assert read_roster(path)[0]["first_name"] == "=HYPERLINK(1)"  # escaped where it is written
